#include "src/master/master_service.h"

#include "absl/strings/str_cat.h"

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

Task<void> MasterService::Run() {
  Runtime& rt = rpc_.runtime();
  journal::JournalClientOptions journal_options = options_.journal;
  journal_options.writer = true;
  // One fence id for this candidate's life: a retried Open must not fence out its own request.
  if (journal_options.fence_id == 0) journal_options.fence_id = rt.random().Next() | 1;
  while (true) {
    term_.reset();
    auto term = std::make_shared<Term>();
    absl::StatusOr<std::unique_ptr<journal::JournalClient>> journal =
        co_await journal::JournalClient::Open(rt, rpc_, options_.stream, journal_options);
    if (!journal.ok()) {
      rt.Log(absl::StrCat("dfs master: cannot fence stream ", options_.stream, ": ", journal.status().ToString()));
      co_await rt.Sleep(options_.restart_backoff);
      continue;
    }
    term->journal = *std::move(journal);
    absl::StatusOr<std::unique_ptr<DfsMaster>> master =
        co_await DfsMaster::Open(rt, rpc_, *term->journal, options_.master, probes_);
    if (!master.ok()) {
      rt.Log(absl::StrCat("dfs master: cannot replay stream ", options_.stream, ": ", master.status().ToString()));
      co_await rt.Sleep(options_.restart_backoff);
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

}  // namespace cairn::master
