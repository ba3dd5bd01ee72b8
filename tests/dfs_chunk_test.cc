// DFS chunks: the format's checksums and its file, and one server's chunk store on an
// in-memory disk — what it promises about durability, damage and identity.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"
#include "src/base/check.h"
#include "src/dfs/chunk_format.h"
#include "src/dfs/chunk_store.h"
#include "src/runtime/mem_disk.h"
#include "src/runtime/run_inline.h"

namespace cairn::dfs {
namespace {

std::string Pattern(size_t n, char salt) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + static_cast<size_t>(salt)) % 251);
  return s;
}

TEST(ChunkFormat, ChecksumsAreBoundToTheIdentity) {
  const std::string data = Pattern(200'000, 1);
  const ChunkSums a = ComputeChunkSums(ChunkId{7, 0}, data);
  EXPECT_EQ(a.blocks.size(), 4u);  // 64 KiB blocks, the last one short
  EXPECT_TRUE(VerifyChunk(ChunkId{7, 0}, data, kChunkBlockBytes, a).ok());
  // The same bytes as another chunk: every checksum differs, so a swapped chunk is caught.
  const ChunkSums b = ComputeChunkSums(ChunkId{7, 1}, data);
  EXPECT_NE(a.chunk, b.chunk);
  for (size_t i = 0; i < a.blocks.size(); ++i) EXPECT_NE(a.blocks[i], b.blocks[i]);
  EXPECT_EQ(VerifyChunk(ChunkId{8, 0}, data, kChunkBlockBytes, a).code(), absl::StatusCode::kDataLoss);
  // The length is bound too: a chunk cut at a block boundary does not pass as a shorter one.
  const std::string cut = data.substr(0, 2 * kChunkBlockBytes);
  ChunkSums truncated = a;
  truncated.blocks.resize(2);
  EXPECT_EQ(VerifyChunk(ChunkId{7, 0}, cut, kChunkBlockBytes, truncated).code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkFormat, VerifiesWholeBlockRanges) {
  const ChunkId id{3, 9};
  const std::string data = Pattern(3 * kChunkBlockBytes + 10, 2);
  const ChunkSums sums = ComputeChunkSums(id, data);
  const uint32_t len = static_cast<uint32_t>(data.size());
  EXPECT_TRUE(VerifyBlocks(id, len, kChunkBlockBytes, sums.blocks, 1, data.substr(kChunkBlockBytes, kChunkBlockBytes)).ok());
  EXPECT_TRUE(VerifyBlocks(id, len, kChunkBlockBytes, sums.blocks, 3, data.substr(3 * kChunkBlockBytes)).ok());
  // A block presented as another block of the same chunk fails.
  EXPECT_EQ(VerifyBlocks(id, len, kChunkBlockBytes, sums.blocks, 2, data.substr(kChunkBlockBytes, kChunkBlockBytes)).code(),
            absl::StatusCode::kDataLoss);
  // Part of a block, or a range past the end, is a caller's error, not damage.
  EXPECT_EQ(VerifyBlocks(id, len, kChunkBlockBytes, sums.blocks, 0, data.substr(0, 100)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyBlocks(id, len, kChunkBlockBytes, sums.blocks, 4, "x").code(), absl::StatusCode::kInvalidArgument);
}

// Any chunk, any block size: the file parses back to its header, table and data, and any one
// flipped bit anywhere in the file is caught by the header, the table or a block check.
RC_GTEST_PROP(ChunkFormatProperty, RoundTripsAndCatchesAnyFlippedBit, ()) {
  const ChunkId id{*rc::gen::inRange<uint64_t>(1, 1000), *rc::gen::inRange<uint32_t>(0, 100)};
  const uint32_t block_bytes = *rc::gen::inRange<uint32_t>(1, 64);  // many blocks, some short
  const std::string data = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  const ChunkSums sums = ComputeChunkSums(id, data, block_bytes);
  std::string file = EncodeChunkFile(id, data, block_bytes, sums);

  auto check = [&](const std::string& f) -> absl::Status {
    absl::StatusOr<ChunkHeader> h = ParseChunkHeader(f, "f");
    if (!h.ok()) return h.status();
    if (h->id != id) return absl::DataLossError("identity");
    if (f.size() != h->file_bytes()) return absl::DataLossError("size");
    absl::StatusOr<std::vector<uint32_t>> table =
        ParseBlockTable(*h, std::string_view(f).substr(h->table_offset(), 4ull * h->block_count), "f");
    if (!table.ok()) return table.status();
    if (h->chunk_checksum != sums.chunk) return absl::DataLossError("root");
    return VerifyBlocks(id, h->length, h->block_bytes, *table, 0, std::string_view(f).substr(h->data_offset()));
  };
  RC_ASSERT(check(file).ok());
  absl::StatusOr<ChunkHeader> h = ParseChunkHeader(file, "f");
  RC_ASSERT(h.ok());
  RC_ASSERT(h->length == data.size());
  RC_ASSERT(file.substr(h->data_offset()) == data);

  const size_t byte = *rc::gen::inRange<size_t>(0, file.size());
  const int bit = *rc::gen::inRange(0, 8);
  // The reserved bytes are covered by the header checksum as well.
  file[byte] = static_cast<char>(file[byte] ^ (1 << bit));
  RC_ASSERT(!check(file).ok());
}

class ChunkStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChunkStore> OpenStore() {
    absl::StatusOr<std::unique_ptr<ChunkStore>> s = RunInline(ChunkStore::Open(disk_, "chunks"));
    CAIRN_CHECK_OK(s.status());
    return *std::move(s);
  }
  absl::Status Put(ChunkStore& store, ChunkId id, const std::string& data) {
    return RunInline(store.Put(id, data, kChunkBlockBytes, ComputeChunkSums(id, data)));
  }
  std::string* FileOf(ChunkId id) { return disk_.Contents("chunks/" + ChunkStore::FileName(id)); }
  MemDisk disk_;
};

TEST_F(ChunkStoreTest, PutsReadsListsAndRemoves) {
  std::unique_ptr<ChunkStore> store = OpenStore();
  const ChunkId a{5, 0}, b{5, 1}, c{0x1234abcd, 7};
  const std::string data = Pattern(3 * kChunkBlockBytes + 999, 3);
  ASSERT_TRUE(Put(*store, a, data).ok());
  ASSERT_TRUE(Put(*store, b, "short").ok());
  ASSERT_TRUE(Put(*store, c, "").ok());  // an empty chunk (an empty file's only one)
  EXPECT_EQ(RunInline(store->List()).value_or(std::vector<ChunkId>{}), (std::vector<ChunkId>{a, b, c}));

  // A read returns the whole blocks that cover the range, verified, and the table.
  absl::StatusOr<ChunkStore::Blocks> r = RunInline(store->Read(a, kChunkBlockBytes + 10, 20));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_block, 1u);
  EXPECT_EQ(r->data, data.substr(kChunkBlockBytes, kChunkBlockBytes));
  EXPECT_EQ(r->table, ComputeChunkSums(a, data).blocks);
  EXPECT_EQ(r->header.chunk_checksum, ComputeChunkSums(a, data).chunk);
  r = RunInline(store->Read(a, 2 * kChunkBlockBytes, data.size() - 2 * kChunkBlockBytes));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->data, data.substr(2 * kChunkBlockBytes));
  r = RunInline(store->Read(b, 0, 5));
  EXPECT_EQ(r.ok() ? r->data : "?", "short");
  r = RunInline(store->Read(c, 0, 0));
  EXPECT_TRUE(r.ok() && r->data.empty()) << r.status();

  EXPECT_EQ(RunInline(store->Read(b, 3, 5)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(RunInline(store->Read(ChunkId{9, 9}, 0, 1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(RunInline(store->Scrub(a)).ok());

  EXPECT_TRUE(RunInline(store->Remove(b)).ok());
  EXPECT_EQ(RunInline(store->Remove(b)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RunInline(store->Read(b, 0, 1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RunInline(store->List()).value_or(std::vector<ChunkId>{}), (std::vector<ChunkId>{a, c}));
}

TEST_F(ChunkStoreTest, PutIsIdempotentAndNeverChangesAChunk) {
  std::unique_ptr<ChunkStore> store = OpenStore();
  const ChunkId id{1, 2};
  ASSERT_TRUE(Put(*store, id, "bytes").ok());
  EXPECT_TRUE(Put(*store, id, "bytes").ok());  // a retried write
  EXPECT_EQ(store->stats().puts_repeated, 1u);
  EXPECT_EQ(Put(*store, id, "other").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(RunInline(store->Read(id, 0, 5))->data, "bytes");
}

TEST_F(ChunkStoreTest, RefusesWhatArrivedDamagedOrOutOfBounds) {
  std::unique_ptr<ChunkStore> store = OpenStore();
  const ChunkId id{4, 0};
  const std::string data = Pattern(100'000, 4);
  ChunkSums sums = ComputeChunkSums(id, data);
  std::string damaged = data;
  damaged[70'000] ^= 1;
  EXPECT_EQ(RunInline(store->Put(id, damaged, kChunkBlockBytes, sums)).code(), absl::StatusCode::kDataLoss);
  ChunkSums bad_root = sums;
  bad_root.chunk ^= 1;
  EXPECT_EQ(RunInline(store->Put(id, data, kChunkBlockBytes, bad_root)).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(RunInline(store->Put(ChunkId{0, 0}, "x", kChunkBlockBytes, ComputeChunkSums(ChunkId{0, 0}, "x"))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunInline(store->Put(id, data, 0, sums)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->stats().puts_refused, 2u);
  EXPECT_EQ(FileOf(id), nullptr);  // nothing written
}

// Every kind of damage at rest is DataLoss naming the chunk, from Read and from Scrub.
TEST_F(ChunkStoreTest, DamageAtRestIsFoundNotServed) {
  const std::string data = Pattern(2 * kChunkBlockBytes + 5, 6);
  std::unique_ptr<ChunkStore> store = OpenStore();
  uint32_t index = 0;
  struct Case {
    const char* what;
    size_t offset;  // into the chunk file
  };
  const uint64_t data_offset = kChunkHeaderBytes + 4 * 3;
  for (const Case& c : {Case{"header", 10}, Case{"table", kChunkHeaderBytes + 5}, Case{"data", data_offset + 100},
                        Case{"last block", data_offset + 2 * kChunkBlockBytes + 2}}) {
    SCOPED_TRACE(c.what);
    const ChunkId id{6, index++};
    ASSERT_TRUE(Put(*store, id, data).ok());
    std::string* file = FileOf(id);
    ASSERT_NE(file, nullptr);
    (*file)[c.offset] ^= 0x40;
    absl::Status scrub = RunInline(store->Scrub(id));
    EXPECT_EQ(scrub.code(), absl::StatusCode::kDataLoss) << scrub;
    // A read of the damaged part fails; a read elsewhere still serves verified bytes.
    absl::StatusOr<ChunkStore::Blocks> r = RunInline(store->Read(id, c.offset >= data_offset ? c.offset - data_offset : 0, 1));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(r.status().message().find(id.ToString()), std::string_view::npos) << r.status();
    if (c.offset == data_offset + 100) {
      r = RunInline(store->Read(id, kChunkBlockBytes, 10));
      EXPECT_TRUE(r.ok()) << r.status();
    }
    EXPECT_EQ(store->stats().scrub_damage, index);
  }
}

// A file that holds another chunk's bytes (a misdirected write, a rename gone wrong) is not
// served as the chunk its name says.
TEST_F(ChunkStoreTest, AChunkUnderAnotherNameIsRefused) {
  std::unique_ptr<ChunkStore> store = OpenStore();
  const ChunkId a{2, 0}, b{2, 1};
  ASSERT_TRUE(Put(*store, a, "aaaa").ok());
  ASSERT_TRUE(Put(*store, b, "bbbb").ok());
  *FileOf(b) = *FileOf(a);
  EXPECT_EQ(RunInline(store->Read(b, 0, 4)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(RunInline(store->Scrub(b)).code(), absl::StatusCode::kDataLoss);
  // Cut short: a file missing its last bytes.
  FileOf(a)->resize(FileOf(a)->size() - 1);
  EXPECT_EQ(RunInline(store->Read(a, 0, 4)).status().code(), absl::StatusCode::kDataLoss);
  // A damaged copy is replaced by a Put of the good bytes (re-replication onto a server
  // whose copy rotted).
  EXPECT_TRUE(Put(*store, a, "aaaa").ok());
  EXPECT_EQ(RunInline(store->Read(a, 0, 4))->data, "aaaa");
}

TEST_F(ChunkStoreTest, OpenRemovesCutOffWritesAndListsOnlyChunks) {
  {
    std::unique_ptr<ChunkStore> store = OpenStore();
    ASSERT_TRUE(Put(*store, ChunkId{1, 0}, "kept").ok());
  }
  // A write a crash cut off before its rename, and a file that is not a chunk.
  {
    auto f = RunInline(disk_.Open("chunks/" + ChunkStore::FileName(ChunkId{1, 1}) + ".tmp", {.create = true}));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(RunInline((*f)->Write(0, "partial")).ok());
    auto g = RunInline(disk_.Open("chunks/README", {.create = true}));
    ASSERT_TRUE(g.ok());
  }
  std::unique_ptr<ChunkStore> store = OpenStore();
  EXPECT_EQ(store->stats().cut_writes_removed, 1u);
  EXPECT_EQ(RunInline(store->List()).value_or(std::vector<ChunkId>{}), (std::vector<ChunkId>{ChunkId{1, 0}}));
  EXPECT_EQ(disk_.Contents("chunks/" + ChunkStore::FileName(ChunkId{1, 1}) + ".tmp"), nullptr);
}

TEST(ChunkStoreNames, OneSpellingPerChunk) {
  ChunkId id;
  EXPECT_EQ(ChunkStore::FileName(ChunkId{0xabc, 5}), "0000000000000abc-00000005.chunk");
  EXPECT_TRUE(ChunkStore::ParseFileName("0000000000000abc-00000005.chunk", &id));
  EXPECT_EQ(id, (ChunkId{0xabc, 5}));
  EXPECT_FALSE(ChunkStore::ParseFileName("0000000000000ABC-00000005.chunk", &id));  // upper case
  EXPECT_FALSE(ChunkStore::ParseFileName("0000000000000000-00000005.chunk", &id));  // file 0
  EXPECT_FALSE(ChunkStore::ParseFileName("0000000000000abc-00000005.chunk.tmp", &id));
  EXPECT_FALSE(ChunkStore::ParseFileName("abc-5.chunk", &id));
}

}  // namespace
}  // namespace cairn::dfs
