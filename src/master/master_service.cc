#include "src/master/master_service.h"

#include "absl/strings/str_cat.h"
#include "src/base/check.h"
#include "src/runtime/probes.h"

namespace cairn::master {
namespace {

absl::Status NotTheMaster(Runtime& rt) {
  return absl::UnavailableError(absl::StrCat("node ", rt.node_id(), " is not the master now"));
}

}  // namespace

std::shared_ptr<MasterService::Term> MasterService::Serving() const {
  if (term_ == nullptr || term_->master == nullptr || term_->master->failed()) return nullptr;
  return term_;
}

void MasterService::RegisterMethods() {
  // One route per method: to the master serving now, or Unavailable.
  auto route = [this]<typename Request, typename Reply>(
                   std::string method, Task<absl::StatusOr<Reply>> (DfsMaster::*handler)(Request)) {
    rpc_.Register<Request, Reply>(
        std::move(method), [this, handler](rpc::CallContext, Request r) -> Task<absl::StatusOr<Reply>> {
          std::shared_ptr<Term> term = Serving();
          if (term == nullptr) co_return NotTheMaster(rpc_.runtime());
          co_return co_await (term->master.get()->*handler)(std::move(r));
        });
  };
  route("dfs.create", &DfsMaster::Create);
  route("dfs.place", &DfsMaster::Place);
  route("dfs.seal", &DfsMaster::Seal);
  route("dfs.open", &DfsMaster::OpenFile);
  route("dfs.delete", &DfsMaster::Delete);
  route("dfs.abort", &DfsMaster::Abort);
  route("dfs.list", &DfsMaster::List);
  route("dfs.snapshot", &DfsMaster::Snapshot);
  route("dfs.delete_snapshot", &DfsMaster::DeleteSnapshot);
  rpc_.Register<dfs::HeartbeatRequest, dfs::HeartbeatReply>(
      "dfs.heartbeat",
      [this](rpc::CallContext context, dfs::HeartbeatRequest r) -> Task<absl::StatusOr<dfs::HeartbeatReply>> {
        std::shared_ptr<Term> term = Serving();
        if (term == nullptr) co_return NotTheMaster(rpc_.runtime());
        co_return term->master->Heartbeat(context.from, r);
      });
  rpc_.Register<dfs::ReportBadRequest, dfs::ReportBadReply>(
      "dfs.report_bad",
      [this](rpc::CallContext, dfs::ReportBadRequest r) -> Task<absl::StatusOr<dfs::ReportBadReply>> {
        std::shared_ptr<Term> term = Serving();
        if (term == nullptr) co_return NotTheMaster(rpc_.runtime());
        co_return term->master->ReportBad(r);
      });
}

Task<void> MasterService::StandBy() {
  Runtime& rt = rpc_.runtime();
  journal::JournalClientOptions reader_options = options_.journal;
  reader_options.writer = false;
  absl::StatusOr<std::unique_ptr<journal::JournalClient>> reader =
      co_await journal::JournalClient::Open(rt, rpc_, options_.stream, reader_options);
  if (!reader.ok()) co_return;  // a bad configuration: the fence reports it
  std::optional<std::pair<uint64_t, uint64_t>> seen;  // the stream's (epoch, next)
  Instant moved = rt.Now();
  // Stretched at random (by up to a half), so that candidates standing by together rarely
  // fence together.
  const Duration wait = options_.takeover_after +
                        std::chrono::duration_cast<Duration>(options_.takeover_after * rt.random().UniformDouble() / 2);
  while (true) {
    absl::StatusOr<journal::InfoReply> info = co_await (*reader)->Info(rt.DeadlineAfter(options_.standby_poll * 4));
    if (info.ok()) {
      const std::pair<uint64_t, uint64_t> now_seen{info->epoch(), info->next()};
      if (info->epoch() == 0) {
        // Never fenced: no master has served yet. A short random wait, then take it.
        CAIRN_SOMETIMES(probes_, true, "master.first-fence-of-a-new-stream");
        co_await rt.Sleep(std::chrono::duration_cast<Duration>(options_.takeover_after * rt.random().UniformDouble() / 4));
        co_return;
      }
      if (seen != now_seen) {
        seen = now_seen;
        moved = rt.Now();
      }
    }
    if (rt.Now() - moved >= wait) {
      CAIRN_SOMETIMES(probes_, seen.has_value(), "master.standby-took-over-a-silent-stream");
      co_return;
    }
    co_await rt.Sleep(options_.standby_poll);
  }
}

Task<void> MasterService::Run() {
  Runtime& rt = rpc_.runtime();
  journal::JournalClientOptions journal_options = options_.journal;
  journal_options.writer = true;
  // One fence id for this candidate's life: a retried Open must not fence out its own request.
  if (journal_options.fence_id == 0) journal_options.fence_id = rt.random().Next() | 1;
  bool stand_by = true;
  while (true) {
    if (term_ != nullptr && term_->master != nullptr) past_terms_.Add(term_->master->stats());
    term_.reset();
    if (stand_by) co_await StandBy();
    stand_by = true;
    auto term = std::make_shared<Term>();
    absl::StatusOr<std::unique_ptr<journal::JournalClient>> journal =
        co_await journal::JournalClient::Open(rt, rpc_, options_.stream, journal_options);
    if (!journal.ok()) {
      rt.Log(absl::StrCat("dfs master: cannot fence stream ", options_.stream, ": ", journal.status().ToString()));
      co_await rt.Sleep(options_.restart_backoff);
      if (absl::IsFailedPrecondition(journal.status())) {
        // Refused: another fenced first and serves now. Stand by, with a new fence id next time.
        journal_options.fence_id = rt.random().Next() | 1;
        journal_options.supersedes.reset();
      } else {
        stand_by = false;  // unanswered: the same fence again (it may have landed)
      }
      continue;
    }
    term->journal = *std::move(journal);
    absl::StatusOr<std::unique_ptr<DfsMaster>> master =
        co_await DfsMaster::Open(rt, rpc_, *term->journal, options_.master, probes_);
    if (!master.ok()) {
      rt.Log(absl::StrCat("dfs master: cannot replay stream ", options_.stream, ": ", master.status().ToString()));
      co_await rt.Sleep(options_.restart_backoff);
      stand_by = false;  // the fence is this candidate's: replay again
      continue;
    }
    term->master = *std::move(master);
    term_ = term;
    ++terms_;
    rt.Log(absl::StrCat("dfs master: serving at epoch ", term->journal->epoch(), " after replaying ",
                        term->master->stats().replayed, " commands"));
    term->master->Start();
    (void)co_await term->master->Failed();
    // A new fence id: the stream was fenced past this one (or this one's appends failed).
    journal_options.fence_id = rt.random().Next() | 1;
    journal_options.supersedes.reset();
    co_await rt.Sleep(options_.restart_backoff);
  }
}

DfsMasterStats MasterService::stats() const {
  DfsMasterStats all = past_terms_;
  if (term_ != nullptr && term_->master != nullptr) all.Add(term_->master->stats());
  return all;
}

}  // namespace cairn::master
