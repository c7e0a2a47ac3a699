#include "storage/snapshot.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace skiff {

namespace {

constexpr char kMagic[8] = {'S', 'K', 'I', 'F', 'F', 'S', 'N', 'P'};
constexpr uint8_t kRecordTag = 'K';
constexpr uint8_t kTrailerTag = 'E';
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8 + 8;
constexpr size_t kRecordFixedSize = 4 + 4 + 8 + 8;  // after the tag
constexpr size_t kDigestSize = 32;
constexpr uint32_t kMaxKeySize = 1u << 20;
constexpr uint32_t kMaxValueSize = 1u << 30;

void PutU32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(in[i]) << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

Status Invalid(const std::string& path, const std::string& why) {
  return Status(StatusCode::kInvalid, "snapshot " + path + " is not usable: " + why);
}

Status CheckRevisions(const KeyValue& kv, int64_t revision) {
  if (kv.key.empty()) return Status(StatusCode::kBadRequest, "snapshot key must not be empty");
  if (kv.create_revision <= 0 || kv.mod_revision < kv.create_revision ||
      kv.mod_revision > revision) {
    return Status(StatusCode::kBadRequest,
                  "key " + kv.key + " has revisions (create " + std::to_string(kv.create_revision) +
                      ", mod " + std::to_string(kv.mod_revision) +
                      ") outside 0 < create <= mod <= " + std::to_string(revision));
  }
  return Status::Ok();
}

}  // namespace

// SHA-256 over everything written or read, through OpenSSL's EVP interface.
class SnapshotDigest {
 public:
  SnapshotDigest() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) std::abort();
  }
  ~SnapshotDigest() { EVP_MD_CTX_free(ctx_); }
  SnapshotDigest(const SnapshotDigest&) = delete;
  SnapshotDigest& operator=(const SnapshotDigest&) = delete;

  void Update(const void* data, size_t size) {
    if (size > 0) EVP_DigestUpdate(ctx_, data, size);
  }
  std::array<uint8_t, kDigestSize> Final() {
    std::array<uint8_t, kDigestSize> out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out.data(), &len);
    return out;
  }

 private:
  EVP_MD_CTX* const ctx_;
};

// ---------------------------------------------------------------------------------------
// SnapshotWriter

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                               const SnapshotHeader& header) {
  namespace fs = std::filesystem;
  fs::path final_path(path);
  fs::path dir = final_path.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return Err(StatusCode::kInternal,
               "cannot create a snapshot file in " + dir.string() + ": " + std::strerror(errno));
  }
  std::FILE* file = ::fdopen(fd, "wb");
  if (file == nullptr) {
    ::close(fd);
    ::unlink(temp.c_str());
    return Err(StatusCode::kInternal, "fdopen " + temp + ": " + std::strerror(errno));
  }
  auto writer =
      std::unique_ptr<SnapshotWriter>(new SnapshotWriter(path, std::move(temp), file, header));
  uint8_t buf[kHeaderSize];
  std::memcpy(buf, kMagic, 8);
  PutU32(buf + 8, header.format_version);
  PutU32(buf + 12, 0);
  PutU64(buf + 16, static_cast<uint64_t>(header.revision));
  PutU64(buf + 24, static_cast<uint64_t>(header.compacted_revision));
  PutU64(buf + 32, static_cast<uint64_t>(header.created_unix));
  if (Status st = writer->Write(buf, sizeof(buf)); !st.ok()) return Err(std::move(st));
  return writer;
}

SnapshotWriter::SnapshotWriter(std::string path, std::string temp_path, std::FILE* file,
                               SnapshotHeader header)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      header_(header),
      file_(file),
      digest_(std::make_unique<SnapshotDigest>()) {}

SnapshotWriter::~SnapshotWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

Status SnapshotWriter::Write(const void* data, size_t size) {
  if (!failed_.ok()) return failed_;
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) {
    failed_ = Status(StatusCode::kInternal, "write " + temp_path_ + ": " + std::strerror(errno));
    return failed_;
  }
  digest_->Update(data, size);
  return Status::Ok();
}

Status SnapshotWriter::Add(const KeyValue& kv) {
  if (committed_) return Status(StatusCode::kInternal, "snapshot already committed");
  if (Status st = CheckRevisions(kv, header_.revision); !st.ok()) return st;
  if (kv.key.size() > kMaxKeySize || kv.value.size() > kMaxValueSize) {
    return Status(StatusCode::kBadRequest, "key " + kv.key + " is too large for a snapshot");
  }
  uint8_t buf[1 + kRecordFixedSize];
  buf[0] = kRecordTag;
  PutU32(buf + 1, static_cast<uint32_t>(kv.key.size()));
  PutU32(buf + 5, static_cast<uint32_t>(kv.value.size()));
  PutU64(buf + 9, static_cast<uint64_t>(kv.create_revision));
  PutU64(buf + 17, static_cast<uint64_t>(kv.mod_revision));
  if (Status st = Write(buf, sizeof(buf)); !st.ok()) return st;
  if (Status st = Write(kv.key.data(), kv.key.size()); !st.ok()) return st;
  if (Status st = Write(kv.value.data(), kv.value.size()); !st.ok()) return st;
  ++keys_;
  bytes_ += kv.key.size() + kv.value.size();
  return Status::Ok();
}

Status SnapshotWriter::Commit() {
  if (committed_) return Status(StatusCode::kInternal, "snapshot already committed");
  uint8_t trailer[1 + 8];
  trailer[0] = kTrailerTag;
  PutU64(trailer + 1, keys_);
  if (Status st = Write(trailer, sizeof(trailer)); !st.ok()) return st;
  const auto digest = digest_->Final();
  if (std::fwrite(digest.data(), 1, digest.size(), file_) != digest.size() ||
      std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    return Status(StatusCode::kInternal, "write " + temp_path_ + ": " + std::strerror(errno));
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) {
    return Status(StatusCode::kInternal, "close " + temp_path_ + ": " + std::strerror(errno));
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return Status(StatusCode::kInternal,
                  "rename " + temp_path_ + " to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
  // Make the rename itself durable.
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// SnapshotReader

namespace {

// Reads exactly `size` bytes; false at end of file or on error (errno tells which).
bool ReadExact(std::FILE* file, void* out, size_t size) {
  return size == 0 || std::fread(out, 1, size, file) == size;
}

}  // namespace

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    if (errno == ENOENT) return Err(StatusCode::kNotFound, "snapshot " + path + " does not exist");
    return Err(StatusCode::kInternal, "open " + path + ": " + std::strerror(errno));
  }
  struct Closer {
    std::FILE* file;
    ~Closer() {
      if (file != nullptr) std::fclose(file);
    }
  } closer{file};

  auto read_error = [&](const std::string& what) -> Status {
    if (std::ferror(file)) {
      return Status(StatusCode::kInternal, "read " + path + ": " + std::strerror(errno));
    }
    return Invalid(path, "truncated (" + what + " missing); the file is incomplete");
  };

  SnapshotDigest digest;
  uint8_t head[kHeaderSize];
  if (!ReadExact(file, head, sizeof(head))) {
    if (!std::ferror(file)) return Err(Invalid(path, "too short to be a snapshot"));
    return Err(read_error("header"));
  }
  if (std::memcmp(head, kMagic, 8) != 0) return Err(Invalid(path, "not a Skiff snapshot file"));
  SnapshotHeader header;
  header.format_version = GetU32(head + 8);
  if (header.format_version != kSnapshotFormatVersion) {
    return Err(Invalid(path, "format version " + std::to_string(header.format_version) +
                                 " is not supported (this binary reads version " +
                                 std::to_string(kSnapshotFormatVersion) + ")"));
  }
  header.revision = static_cast<int64_t>(GetU64(head + 16));
  header.compacted_revision = static_cast<int64_t>(GetU64(head + 24));
  header.created_unix = static_cast<int64_t>(GetU64(head + 32));
  digest.Update(head, sizeof(head));
  if (header.revision < 0 || header.compacted_revision < 0 ||
      header.compacted_revision > header.revision) {
    return Err(Invalid(path, "header revisions are inconsistent (corrupted)"));
  }

  std::vector<Entry> entries;
  uint64_t offset = kHeaderSize;
  std::vector<char> chunk(64 * 1024);
  while (true) {
    uint8_t tag = 0;
    if (!ReadExact(file, &tag, 1)) return Err(read_error("trailer"));
    digest.Update(&tag, 1);
    if (tag == kTrailerTag) break;
    if (tag != kRecordTag) {
      return Err(
          Invalid(path, "unknown record at offset " + std::to_string(offset) + " (corrupted)"));
    }
    uint8_t fixed[kRecordFixedSize];
    if (!ReadExact(file, fixed, sizeof(fixed))) return Err(read_error("record"));
    digest.Update(fixed, sizeof(fixed));
    const uint32_t key_size = GetU32(fixed);
    const uint32_t value_size = GetU32(fixed + 4);
    KeyValue kv;
    kv.create_revision = static_cast<int64_t>(GetU64(fixed + 8));
    kv.mod_revision = static_cast<int64_t>(GetU64(fixed + 16));
    if (key_size == 0 || key_size > kMaxKeySize || value_size > kMaxValueSize) {
      return Err(Invalid(path, "record at offset " + std::to_string(offset) +
                                   " has an impossible size (corrupted)"));
    }
    kv.key.resize(key_size);
    if (!ReadExact(file, kv.key.data(), key_size)) return Err(read_error("record"));
    digest.Update(kv.key.data(), key_size);
    if (Status st = CheckRevisions(kv, header.revision); !st.ok()) {
      return Err(Invalid(path, st.message() + " (corrupted)"));
    }
    for (uint32_t left = value_size; left > 0;) {
      const size_t n = std::min<size_t>(left, chunk.size());
      if (!ReadExact(file, chunk.data(), n)) return Err(read_error("record"));
      digest.Update(chunk.data(), n);
      left -= static_cast<uint32_t>(n);
    }
    entries.push_back(Entry{kv.mod_revision, offset});
    offset += 1 + kRecordFixedSize + key_size + value_size;
  }
  uint8_t count[8];
  if (!ReadExact(file, count, sizeof(count))) return Err(read_error("trailer"));
  digest.Update(count, sizeof(count));
  std::array<uint8_t, kDigestSize> stored{};
  if (!ReadExact(file, stored.data(), stored.size())) return Err(read_error("checksum"));
  if (digest.Final() != stored) {
    return Err(Invalid(path, "checksum mismatch (the file is corrupted)"));
  }
  if (GetU64(count) != entries.size()) {
    return Err(Invalid(path, "record count does not match the trailer (corrupted)"));
  }
  if (std::fgetc(file) != EOF) return Err(Invalid(path, "unexpected data after the trailer"));

  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.mod_revision < b.mod_revision; });
  closer.file = nullptr;
  return std::unique_ptr<SnapshotReader>(new SnapshotReader(file, header, std::move(entries)));
}

SnapshotReader::SnapshotReader(std::FILE* file, SnapshotHeader header, std::vector<Entry> entries)
    : file_(file), header_(header), entries_(std::move(entries)) {}

SnapshotReader::~SnapshotReader() { std::fclose(file_); }

Status SnapshotReader::ForEachByModRevision(const std::function<Status(KeyValue&&)>& fn) {
  for (const Entry& entry : entries_) {
    if (::fseeko(file_, static_cast<off_t>(entry.offset), SEEK_SET) != 0) {
      return Status(StatusCode::kInternal,
                    std::string("seek in snapshot: ") + std::strerror(errno));
    }
    uint8_t fixed[1 + kRecordFixedSize];
    if (!ReadExact(file_, fixed, sizeof(fixed)) || fixed[0] != kRecordTag) {
      return Status(StatusCode::kInvalid, "snapshot file changed while being read");
    }
    const uint32_t key_size = GetU32(fixed + 1);
    const uint32_t value_size = GetU32(fixed + 5);
    if (key_size > kMaxKeySize || value_size > kMaxValueSize) {
      return Status(StatusCode::kInvalid, "snapshot file changed while being read");
    }
    KeyValue kv;
    kv.key.resize(key_size);
    kv.value.resize(value_size);
    kv.create_revision = static_cast<int64_t>(GetU64(fixed + 9));
    kv.mod_revision = static_cast<int64_t>(GetU64(fixed + 17));
    if (kv.mod_revision != entry.mod_revision || !ReadExact(file_, kv.key.data(), kv.key.size()) ||
        !ReadExact(file_, kv.value.data(), kv.value.size())) {
      return Status(StatusCode::kInvalid, "snapshot file changed while being read");
    }
    if (Status st = fn(std::move(kv)); !st.ok()) return st;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Save and replay

Result<SnapshotHeader> SaveSnapshot(Store& store, const std::string& path,
                                    const SnapshotSaveOptions& options) {
  if (options.page_size <= 0) return Err(StatusCode::kBadRequest, "page size must be positive");
  // The revision first: every page is then read as of it, whatever is written meanwhile.
  auto revision = store.CurrentRevision();
  if (!revision) return Err(std::move(revision.error()));
  SnapshotHeader header;
  header.revision = *revision;
  header.compacted_revision = std::min(store.CompactedRevision(), *revision);
  header.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  auto writer = SnapshotWriter::Create(path, header);
  if (!writer) return Err(std::move(writer.error()));
  std::string start_after;
  SnapshotProgress progress;
  while (true) {
    auto page = store.Range("", start_after, header.revision, options.page_size);
    if (!page) return Err(std::move(page.error()));
    for (const KeyValue& kv : page->kvs) {
      if (Status st = (*writer)->Add(kv); !st.ok()) return Err(std::move(st));
    }
    progress.keys = (*writer)->keys();
    progress.bytes = (*writer)->bytes();
    if (options.progress) options.progress(progress);
    if (!page->more || page->kvs.empty()) break;
    start_after = page->kvs.back().key;
  }
  if (Status st = (*writer)->Commit(); !st.ok()) return Err(std::move(st));
  return header;
}

Result<int64_t> RestoreSnapshotByReplay(SnapshotReader& snapshot, Store& store,
                                        const SnapshotProgressFn& progress) {
  auto existing = store.Range("", "", 0, 1);
  if (!existing) return Err(std::move(existing.error()));
  if (!existing->kvs.empty()) {
    return Err(StatusCode::kAlreadyExists, "the target datastore is not empty (it holds " +
                                               existing->kvs.front().key +
                                               "); restore needs a new, empty datastore");
  }
  SnapshotProgress done;
  done.total_keys = snapshot.size();
  int64_t last = 0;
  Status st = snapshot.ForEachByModRevision([&](KeyValue&& kv) -> Status {
    const size_t size = kv.key.size() + kv.value.size();
    auto revision = store.Create(kv.key, std::move(kv.value));
    if (!revision) return revision.error();
    last = *revision;
    ++done.keys;
    done.bytes += size;
    if (progress) progress(done);
    return Status::Ok();
  });
  if (!st.ok()) return Err(std::move(st));
  // The restored store has no history older than its restored state: make that explicit, so
  // that reads and watches from earlier revisions get "compacted" instead of a partial view.
  if (last > 0) {
    if (Status compact = store.Compact(last);
        !compact.ok() && compact.code() != StatusCode::kGone) {
      return Err(std::move(compact));
    }
  }
  return store.CurrentRevision();
}

}  // namespace skiff
