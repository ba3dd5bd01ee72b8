// A file server's chunk service over the simulated network: puts, verified reads of any range,
// lists and removes; bad requests; damage at rest found by the server; and a reply that lies
// caught by the reader's own check against the sealed checksum.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/core/world.h"
#include "src/dfs/file_server.h"

namespace cairn::dfs {
namespace {

using std::chrono::seconds;

std::string Pattern(size_t n, char salt) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + static_cast<size_t>(salt)) % 253);
  return s;
}

Task<void> Serve(Runtime& rt) {
  auto store = co_await ChunkStore::Open(rt.disk(), "chunks", Probes(rt));
  CAIRN_CHECK_OK(store.status());
  rpc::RpcNode rpc(rt);
  FileServer server(rpc, **store);
  server.RegisterMethods();
  rpc.Start();
  while (true) co_await rt.Sleep(seconds(1));
}

// Runs `client` on a node beside a file server (node 0), for at most a simulated minute.
void WithServer(uint64_t seed, std::function<Task<void>(Runtime&, rpc::RpcNode&, sim::World&)> client) {
  sim::World world(sim::WorldOptions{.seed = seed});
  bool done = false;
  const NodeId s = world.AddNode("server", Serve);
  const NodeId c = world.AddNode("client", [&](Runtime& rt) -> Task<void> {
    rpc::RpcNode rpc(rt);
    rpc.Start();
    co_await client(rt, rpc, world);
    done = true;
  });
  world.Start(s);
  world.Start(c);
  world.RunUntilCondition([&] { return done; }, world.Now() + std::chrono::minutes(1));
  EXPECT_TRUE(done) << "the client did not finish";
}

TEST(FileServer, PutsAndReadsVerifiedRanges) {
  WithServer(1, [](Runtime& rt, rpc::RpcNode& rpc, sim::World&) -> Task<void> {
    const ChunkId id{42, 0};
    const std::string data = Pattern(3 * kChunkBlockBytes + 123, 1);
    EXPECT_TRUE((co_await PutChunk(rpc, 0, id, data, rt.DeadlineAfter(seconds(5)))).ok());
    EXPECT_TRUE((co_await PutChunk(rpc, 0, id, data, rt.DeadlineAfter(seconds(5)))).ok());  // a retry
    const ChunkRef ref{id, static_cast<uint32_t>(data.size()), ComputeChunkSums(id, data).chunk};
    for (const auto& [offset, length] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, data.size()}, {0, 1}, {kChunkBlockBytes - 1, 2}, {data.size() - 5, 5}, {100, 0}}) {
      absl::StatusOr<std::string> got = co_await ReadChunk(rpc, 0, ref, offset, length, rt.DeadlineAfter(seconds(5)));
      EXPECT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got.value_or("?"), data.substr(offset, length)) << offset << "+" << length;
    }
    // The reader trusts the sealed checksum, not the server: a record that disagrees with
    // what the server holds fails, whoever is wrong.
    ChunkRef other = ref;
    other.checksum ^= 1;
    EXPECT_EQ((co_await ReadChunk(rpc, 0, other, 0, 10, rt.DeadlineAfter(seconds(5)))).status().code(),
              absl::StatusCode::kDataLoss);
    EXPECT_EQ((co_await ReadChunk(rpc, 0, ChunkRef{{42, 9}, 1, 1}, 0, 1, rt.DeadlineAfter(seconds(5)))).status().code(),
              absl::StatusCode::kNotFound);

    ListChunksReply list = *co_await rpc.Call<ListChunksReply>(0, "dfs.list_chunks", ListChunksRequest(),
                                                               rpc::CallOptions{.deadline = rt.DeadlineAfter(seconds(5))});
    EXPECT_EQ(list.ids_size(), 1);
    RemoveChunksRequest remove;
    remove.add_ids()->set_file(42);
    remove.add_ids()->set_file(77);  // not held: skipped
    absl::StatusOr<RemoveChunksReply> removed = co_await rpc.Call<RemoveChunksReply>(
        0, "dfs.remove_chunks", remove, rpc::CallOptions{.deadline = rt.DeadlineAfter(seconds(5))});
    EXPECT_EQ(removed.ok() ? removed->removed() : 99u, 1u);
    EXPECT_EQ((co_await ReadChunk(rpc, 0, ref, 0, 1, rt.DeadlineAfter(seconds(5)))).status().code(),
              absl::StatusCode::kNotFound);
  });
}

TEST(FileServer, RefusesBadRequests) {
  WithServer(2, [](Runtime& rt, rpc::RpcNode& rpc, sim::World&) -> Task<void> {
    const rpc::CallOptions call{.deadline = rt.DeadlineAfter(seconds(5))};
    PutChunkRequest put;
    put.mutable_id()->set_file(0);
    EXPECT_EQ((co_await rpc.Call<PutChunkReply>(0, "dfs.put_chunk", put, call)).status().code(),
              absl::StatusCode::kInvalidArgument);
    put.mutable_id()->set_file(5);
    put.set_data("abc");
    put.set_block_bytes(0);
    EXPECT_EQ((co_await rpc.Call<PutChunkReply>(0, "dfs.put_chunk", put, call)).status().code(),
              absl::StatusCode::kInvalidArgument);
    put.set_block_bytes(kChunkBlockBytes);  // and no block checksums for its one block
    EXPECT_EQ((co_await rpc.Call<PutChunkReply>(0, "dfs.put_chunk", put, call)).status().code(),
              absl::StatusCode::kInvalidArgument);
    put.add_blocks(123);  // a wrong one: the bytes arrived damaged, as far as the server knows
    EXPECT_EQ((co_await rpc.Call<PutChunkReply>(0, "dfs.put_chunk", put, call)).status().code(),
              absl::StatusCode::kDataLoss);
    ReadChunkRequest read;
    read.mutable_id()->set_file(5);
    read.set_length(kReadBytesMax + 1);
    EXPECT_EQ((co_await rpc.Call<ReadChunkReply>(0, "dfs.read_chunk", read, call)).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((co_await PutChunk(rpc, 0, ChunkId{5, 0}, std::string(kChunkBytesMax + 1, 'x'), call.deadline)).code(),
              absl::StatusCode::kInvalidArgument);
  });
}

TEST(FileServer, DamageAtRestIsDataLossNotBytes) {
  WithServer(3, [](Runtime& rt, rpc::RpcNode& rpc, sim::World& world) -> Task<void> {
    const ChunkId id{8, 1};
    const std::string data = Pattern(2 * kChunkBlockBytes, 3);
    EXPECT_TRUE((co_await PutChunk(rpc, 0, id, data, rt.DeadlineAfter(seconds(5)))).ok());
    const ChunkRef ref{id, static_cast<uint32_t>(data.size()), ComputeChunkSums(id, data).chunk};
    // One bit flipped in the second block, on the server's disk.
    const uint64_t at = kChunkHeaderBytes + 4 * 2 + kChunkBlockBytes + 10;
    EXPECT_TRUE(world.disk(0).CorruptAtRest("chunks/" + ChunkStore::FileName(id), at, 3).ok());
    absl::StatusOr<std::string> bad = co_await ReadChunk(rpc, 0, ref, kChunkBlockBytes, 100, rt.DeadlineAfter(seconds(5)));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss) << bad.status();
    // The first block is whole, and is still served.
    absl::StatusOr<std::string> good = co_await ReadChunk(rpc, 0, ref, 0, 100, rt.DeadlineAfter(seconds(5)));
    EXPECT_EQ(good.value_or("?"), data.substr(0, 100));
  });
}

// The reader's own check, against replies a faulty server could send.
TEST(ChunkClient, CatchesARepliedLie) {
  const ChunkId id{3, 0};
  const std::string data = Pattern(kChunkBlockBytes + 50, 4);
  const ChunkSums sums = ComputeChunkSums(id, data);
  const ChunkRef ref{id, static_cast<uint32_t>(data.size()), sums.chunk};
  ReadChunkReply honest;
  honest.set_length(ref.length);
  honest.set_block_bytes(kChunkBlockBytes);
  for (uint32_t b : sums.blocks) honest.add_blocks(b);
  honest.set_first_block(1);
  honest.set_data(data.substr(kChunkBlockBytes));
  EXPECT_EQ(CheckReadReply(ref, kChunkBlockBytes + 10, 40, honest).value_or("?"), data.substr(kChunkBlockBytes + 10, 40));

  ReadChunkReply flipped = honest;
  (*flipped.mutable_data())[5] ^= 1;
  EXPECT_EQ(CheckReadReply(ref, kChunkBlockBytes + 10, 40, flipped).status().code(), absl::StatusCode::kDataLoss);
  ReadChunkReply table = honest;  // a table made up to match damaged bytes
  table.set_blocks(1, BlockChecksum(id, 1, flipped.data()));
  table.set_data(flipped.data());
  EXPECT_EQ(CheckReadReply(ref, kChunkBlockBytes + 10, 40, table).status().code(), absl::StatusCode::kDataLoss);
  ReadChunkReply shifted = honest;  // the right block, claimed to be the first
  shifted.set_first_block(0);
  EXPECT_EQ(CheckReadReply(ref, 10, 40, shifted).status().code(), absl::StatusCode::kDataLoss);
  ReadChunkReply shortened = honest;
  shortened.mutable_data()->resize(20);
  EXPECT_EQ(CheckReadReply(ref, kChunkBlockBytes + 10, 40, shortened).status().code(), absl::StatusCode::kDataLoss);
  ReadChunkReply wrong_length = honest;
  wrong_length.set_length(ref.length - 1);
  EXPECT_EQ(CheckReadReply(ref, kChunkBlockBytes + 10, 40, wrong_length).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cairn::dfs
