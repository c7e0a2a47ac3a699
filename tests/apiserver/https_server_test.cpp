#include "apiserver/https_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "apiserver/pki.h"

namespace skiff {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------
// Test fixtures: a temp dir with a cluster PKI, a blocking TLS client, curl.

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "skiff-https-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
};

// A blocking HTTP/1.1-over-TLS client, enough to drive the server byte by byte.
class TlsClient {
 public:
  struct Options {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::vector<std::string> alpn = {"h2", "http/1.1"};
  };

  static SSL_CTX* NewContext(const Options& options) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!options.cert_file.empty()) {
      SSL_CTX_use_certificate_file(ctx, options.cert_file.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    std::string wire;
    for (const std::string& proto : options.alpn) {
      wire += static_cast<char>(proto.size());
      wire += proto;
    }
    if (!wire.empty()) {
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned>(wire.size()));
    }
    return ctx;
  }

  // Connects to 127.0.0.1:port and completes the handshake; nullptr on failure.
  static std::unique_ptr<TlsClient> Connect(uint16_t port, SSL_CTX* ctx) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return nullptr;
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // as Go clients do
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return nullptr;
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                  "127.0.0.1");  // the serving certificate must name the address
    if (SSL_connect(ssl) != 1) {
      ERR_print_errors_fp(stderr);
      SSL_free(ssl);
      ::close(fd);
      return nullptr;
    }
    return std::unique_ptr<TlsClient>(new TlsClient(fd, ssl));
  }

  ~TlsClient() {
    SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
  }

  std::string Alpn() const {
    const unsigned char* data = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl_, &data, &len);
    return std::string(reinterpret_cast<const char*>(data), len);
  }

  bool Write(std::string_view data) {
    while (!data.empty()) {
      int n =
          SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  bool Get(std::string_view target) {
    return Write("GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }

  // Reads a response head; the body is left unread.
  std::optional<ClientResponse> ReadHead() {
    std::optional<std::string> status_line = ReadLine();
    if (!status_line || status_line->size() < 12) return std::nullopt;
    ClientResponse response;
    response.status = std::stoi(status_line->substr(9, 3));
    while (true) {
      std::optional<std::string> line = ReadLine();
      if (!line) return std::nullopt;
      if (line->empty()) break;
      size_t colon = line->find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string value = line->substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[line->substr(0, colon)] = value;
    }
    return response;
  }

  // Reads one chunk of a chunked body: its data, "" for the terminating chunk,
  // nullopt on error or end of stream.
  std::optional<std::string> ReadChunk() {
    std::optional<std::string> size_line = ReadLine();
    if (!size_line) return std::nullopt;
    size_t size = std::stoul(*size_line, nullptr, 16);
    if (size == 0) {
      ReadLine();  // the blank line after the (empty) trailer
      return std::string();
    }
    std::optional<std::string> data = ReadExactly(size);
    if (!data || ReadLine() != std::string()) return std::nullopt;
    return data;
  }

  // Reads a whole response (Content-Length or chunked).
  std::optional<ClientResponse> ReadResponse() {
    std::optional<ClientResponse> response = ReadHead();
    if (!response) return std::nullopt;
    if (response->headers.count("Transfer-Encoding") != 0) {
      while (true) {
        std::optional<std::string> chunk = ReadChunk();
        if (!chunk) return std::nullopt;
        if (chunk->empty()) break;
        response->body += *chunk;
      }
    } else if (auto it = response->headers.find("Content-Length"); it != response->headers.end()) {
      std::optional<std::string> body = ReadExactly(std::stoul(it->second));
      if (!body) return std::nullopt;
      response->body = std::move(*body);
    }
    return response;
  }

  // True when the server closed the connection (clean EOF or reset) within the
  // socket's receive timeout.
  bool ReadsEof() {
    if (!buffer_.empty()) return false;
    char c;
    int n = SSL_read(ssl_, &c, 1);
    return n <= 0;
  }

  // Closes the TCP connection abruptly, as a killed client would.
  void Drop() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  TlsClient(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool Fill() {
    char buf[16384];
    int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  std::optional<std::string> ReadLine() {
    while (true) {
      size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        return line;
      }
      if (!Fill()) return std::nullopt;
    }
  }

  std::optional<std::string> ReadExactly(size_t n) {
    while (buffer_.size() < n) {
      if (!Fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  int fd_;
  SSL* ssl_;
  std::string buffer_;
};

// Echoes the request back as text, one fact per line.
HttpResponse Echo(HttpRequest&& request) {
  std::ostringstream out;
  out << "method=" << request.method << "\n";
  out << "path=" << request.path << "\n";
  for (const auto& [k, v] : request.query) out << "query " << k << "=" << v << "\n";
  if (request.peer) {
    out << "peer=" << request.peer->common_name << "\n";
    for (const std::string& org : request.peer->organizations) out << "org=" << org << "\n";
  } else {
    out << "peer=none\n";
  }
  out << "remote=" << request.remote_address << "\n";
  out << "body=" << request.body << "\n";
  HttpResponse response;
  response.SetHeader("Content-Type", "text/plain");
  response.body = out.str();
  return response;
}

// Hands streams out to the test: each /watch request becomes one stream.
class StreamCollector {
 public:
  void Add(std::shared_ptr<ResponseStream> stream) {
    std::lock_guard lock(mu_);
    streams_.push_back(std::move(stream));
    cv_.notify_all();
  }
  // Waits until `n` streams arrived.
  std::vector<std::shared_ptr<ResponseStream>> WaitFor(size_t n,
                                                       std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return streams_.size() >= n; });
    return streams_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<ResponseStream>> streams_;
};

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The blocking test client writes to sockets the server may have closed.
    std::signal(SIGPIPE, SIG_IGN);
    ClusterPkiOptions pki_options;
    pki_options.interface_addresses = std::vector<std::string>{};
    auto pki = EnsureClusterPki(dir_.path() / "tls", pki_options);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = std::move(*pki);

    // A client certificate from a CA the server does not trust.
    CertificateSpec rogue_ca_spec;
    rogue_ca_spec.common_name = "rogue-ca";
    auto rogue_ca = CreateSelfSignedCa(rogue_ca_spec);
    ASSERT_TRUE(rogue_ca.has_value());
    CertificateSpec rogue_spec;
    rogue_spec.common_name = "system:admin";
    rogue_spec.organizations = {"system:masters"};
    auto rogue = IssueCertificate(*rogue_ca, rogue_spec);
    ASSERT_TRUE(rogue.has_value());
    rogue_cert_ = (dir_.path() / "rogue.crt").string();
    rogue_key_ = (dir_.path() / "rogue.key").string();
    ASSERT_TRUE(WriteFileAtomically(rogue_cert_, rogue->cert_pem, 0600).ok());
    ASSERT_TRUE(WriteFileAtomically(rogue_key_, rogue->key_pem, 0600).ok());

    client_ctx_ = TlsClient::NewContext({pki_.ca_cert_file().string()});
  }

  void TearDown() override {
    if (server_) server_->Stop();
    SSL_CTX_free(client_ctx_);
  }

  HttpsServerOptions Options() const {
    HttpsServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.cert_file = pki_.serving_cert_file().string();
    options.key_file = pki_.serving_key_file().string();
    options.client_ca_pem = pki_.ca.cert_pem;
    options.worker_threads = 4;
    options.io_threads = 1;
    return options;
  }

  void StartServer(HttpsServerOptions options) {
    auto server =
        HttpsServer::Start(std::move(options), [this](HttpRequest&& request) -> HttpResponse {
          if (request.path == "/watch") {
            HttpResponse response;
            response.SetHeader("Content-Type", "application/json");
            response.start_stream = [this](std::shared_ptr<ResponseStream> stream) {
              streams_.Add(std::move(stream));
            };
            return response;
          }
          if (request.path == "/slow") std::this_thread::sleep_for(700ms);
          if (request.path == "/throw") throw std::runtime_error("boom");
          return Echo(std::move(request));
        });
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    server_ = std::move(*server);
    ASSERT_NE(server_->port(), 0);
  }

  std::string Url(std::string_view target) const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + std::string(target);
  }

  std::string Curl(std::string_view args) const {
    return "curl -sS --max-time 20 --cacert " + pki_.ca_cert_file().string() + " " +
           std::string(args);
  }

  std::unique_ptr<TlsClient> Connect() { return TlsClient::Connect(server_->port(), client_ctx_); }

  TempDir dir_;
  ClusterPki pki_;
  std::string rogue_cert_;
  std::string rogue_key_;
  SSL_CTX* client_ctx_ = nullptr;
  StreamCollector streams_;
  std::unique_ptr<HttpsServer> server_;
};

// ---------------------------------------------------------------------------------

TEST_F(HttpsServerTest, CurlGetEchoesDecodedPathAndQuery) {
  StartServer(Options());
  CommandResult result = RunCommand(Curl(
      "'" + Url("/api/v1/namespaces/a%20b/pods?labelSelector=app%3Dweb&watch&x=1+2&x=3") + "'"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("method=GET\n"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("path=/api/v1/namespaces/a b/pods\n"), std::string::npos)
      << result.output;
  EXPECT_NE(
      result.output.find("query labelSelector=app=web\nquery watch=\nquery x=1 2\nquery x=3\n"),
      std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("peer=none\n"), std::string::npos);
  EXPECT_NE(result.output.find("remote=127.0.0.1:"), std::string::npos);
}

TEST_F(HttpsServerTest, CurlByHostNameAndPostBody) {
  StartServer(Options());
  std::string url = "https://localhost:" + std::to_string(server_->port()) + "/x";
  CommandResult result = RunCommand(Curl("-X POST --data-binary 'hello world' " + url));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("method=POST\n"), std::string::npos);
  EXPECT_NE(result.output.find("body=hello world\n"), std::string::npos) << result.output;
}

TEST_F(HttpsServerTest, LenientTargetParsing) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  // '|' and '"' are not valid in a URI, but Go's server accepts them.
  ASSERT_TRUE(client->Get("/api/x%2Fy?fieldSelector=a|b&q=%22c%22+d"));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("path=/api/x/y\n"), std::string::npos) << response->body;

  // A leading "//" is part of the path, not an authority.
  ASSERT_TRUE(client->Get("//double/slash?a=1"));
  auto double_slash = client->ReadResponse();
  ASSERT_TRUE(double_slash.has_value());
  EXPECT_NE(double_slash->body.find("path=//double/slash\nquery a=1\n"), std::string::npos)
      << double_slash->body;

  // Absolute-form targets are accepted.
  ASSERT_TRUE(client->Get("https://127.0.0.1/api/v1?b=2"));
  auto absolute = client->ReadResponse();
  ASSERT_TRUE(absolute.has_value());
  EXPECT_NE(absolute->body.find("path=/api/v1\nquery b=2\n"), std::string::npos) << absolute->body;
  EXPECT_NE(response->body.find("query fieldSelector=a|b\nquery q=\"c\" d\n"), std::string::npos)
      << response->body;
}

TEST_F(HttpsServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::string remote;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->Get("/ping?i=" + std::to_string(i)));
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->headers.count("Connection"), 0u);
    EXPECT_NE(response->body.find("query i=" + std::to_string(i)), std::string::npos);
    std::string this_remote = response->body.substr(response->body.find("remote="));
    this_remote = this_remote.substr(0, this_remote.find('\n'));
    if (i == 0) remote = this_remote;
    EXPECT_EQ(this_remote, remote);
  }
  EXPECT_EQ(server_->ActiveConnections(), 1u);

  // Pipelined requests are answered in order.
  ASSERT_TRUE(
      client->Write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c "
                    "HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n"));
  for (const char* path : {"/a", "/b", "/c"}) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_NE(response->body.find(std::string("path=") + path + "\n"), std::string::npos);
    if (std::string(path) == "/c") {
      EXPECT_EQ(response->headers["Connection"], "close");
    }
  }
  EXPECT_TRUE(client->ReadsEof());
}

TEST_F(HttpsServerTest, CurlReusesConnection) {
  StartServer(Options());
  CommandResult result = RunCommand(
      Curl("-o /dev/null -o /dev/null -w '%{num_connects} ' " + Url("/a") + " " + Url("/b")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "1 0 ");
}

TEST_F(HttpsServerTest, ClientCertificateIdentityReachesHandler) {
  StartServer(Options());
  CommandResult result = RunCommand(Curl("--cert " + pki_.admin_cert_file().string() + " --key " +
                                         pki_.admin_key_file().string() + " " + Url("/whoami")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("peer=system:admin\norg=system:masters\n"), std::string::npos)
      << result.output;

  // Also over the raw client, across several requests on one connection.
  TlsClient::Options with_cert{pki_.ca_cert_file().string(), pki_.admin_cert_file().string(),
                               pki_.admin_key_file().string()};
  SSL_CTX* ctx = TlsClient::NewContext(with_cert);
  {
    auto client = TlsClient::Connect(server_->port(), ctx);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client->Get("/whoami"));
      auto response = client->ReadResponse();
      ASSERT_TRUE(response.has_value());
      EXPECT_NE(response->body.find("peer=system:admin\n"), std::string::npos);
    }
  }
  SSL_CTX_free(ctx);
}

TEST_F(HttpsServerTest, UntrustedClientCertificateIsAnonymous) {
  StartServer(Options());
  CommandResult result =
      RunCommand(Curl("--cert " + rogue_cert_ + " --key " + rogue_key_ + " " + Url("/whoami")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("peer=none\n"), std::string::npos) << result.output;
}

TEST_F(HttpsServerTest, NoClientCaMeansNoPeer) {
  HttpsServerOptions options = Options();
  options.client_ca_pem.clear();
  StartServer(options);
  CommandResult result = RunCommand(Curl("--cert " + pki_.admin_cert_file().string() + " --key " +
                                         pki_.admin_key_file().string() + " " + Url("/whoami")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("peer=none\n"), std::string::npos) << result.output;
}

TEST_F(HttpsServerTest, AlpnPicksHttp11) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Alpn(), "http/1.1");

  // A client offering only h2 gets no ALPN and still speaks HTTP/1.1.
  SSL_CTX* h2_only = TlsClient::NewContext({pki_.ca_cert_file().string(), "", "", {"h2"}});
  {
    auto h2_client = TlsClient::Connect(server_->port(), h2_only);
    ASSERT_NE(h2_client, nullptr);
    EXPECT_EQ(h2_client->Alpn(), "");
    ASSERT_TRUE(h2_client->Get("/x"));
    auto response = h2_client->ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
  }
  SSL_CTX_free(h2_only);

  CommandResult result = RunCommand(Curl("--http2 -o /dev/null -w '%{http_version}' " + Url("/x")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "1.1");
}

TEST_F(HttpsServerTest, BodyOverLimitIs413) {
  StartServer(Options());
  fs::path big = dir_.path() / "big";
  { std::ofstream(big, std::ios::binary) << std::string(4 * 1024 * 1024, 'x'); }
  const std::string expected =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413})";

  // curl sends Expect: 100-continue for a large body; the 413 comes before the body.
  CommandResult result =
      RunCommand(Curl("-X POST -H 'Content-Type: application/json' --data-binary @" + big.string() +
                      " -w '\\n%{http_code}' " + Url("/api/v1/namespaces/default/configmaps")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
  EXPECT_EQ(result.output.substr(result.output.size() - 3), "413");

  // A client that sends the whole body without waiting still reads the 413.
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::string request =
      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(4 * 1024 * 1024) +
      "\r\n\r\n" + std::string(4 * 1024 * 1024, 'y');
  ASSERT_TRUE(client->Write(request));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->headers["Content-Type"], "application/json");
  EXPECT_NE(response->body.find(expected), std::string::npos);
  EXPECT_TRUE(client->ReadsEof());

  // Just under the limit is fine.
  fs::path ok = dir_.path() / "ok";
  { std::ofstream(ok, std::ios::binary) << std::string(3 * 1024 * 1024, 'x'); }
  CommandResult ok_result =
      RunCommand(Curl("-X POST --data-binary @" + ok.string() + " -o /dev/null -w '%{http_code}' " +
                      Url("/api/v1/namespaces/default/configmaps")));
  EXPECT_EQ(ok_result.output, "200");
}

TEST_F(HttpsServerTest, ChunkedBodyOverLimitIs413) {
  HttpsServerOptions options = Options();
  options.max_body_bytes = 1000;
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  std::string request = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'z') + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_TRUE(client->Write(request));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("limit is 1000"), std::string::npos);
}

TEST_F(HttpsServerTest, MalformedRequestIs400AndClose) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("THIS IS NOT HTTP\r\n\r\n"));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->headers["Connection"], "close");
  EXPECT_NE(response->body.find(R"("reason":"BadRequest")"), std::string::npos);
  EXPECT_TRUE(client->ReadsEof());

  // The server is still fine.
  auto next = Connect();
  ASSERT_NE(next, nullptr);
  ASSERT_TRUE(next->Get("/ok"));
  auto ok = next->ReadResponse();
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpsServerTest, OversizedHeadersAre431) {
  HttpsServerOptions options = Options();
  options.max_header_bytes = 4096;
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      client->Write("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n"));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
}

TEST_F(HttpsServerTest, PlainHttpOnTlsPortIsDropped) {
  StartServer(Options());
  CommandResult result =
      RunCommand("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                 std::to_string(server_->port()) + "/");
  EXPECT_NE(result.exit_code, 0);
  // Still serving.
  CommandResult ok = RunCommand(Curl("-o /dev/null -w '%{http_code}' " + Url("/")));
  EXPECT_EQ(ok.output, "200");
}

TEST_F(HttpsServerTest, HandlerExceptionIs500) {
  StartServer(Options());
  CommandResult result = RunCommand(Curl("-w '\\n%{http_code}' " + Url("/throw")));
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_NE(result.output.find(R"("reason":"InternalError")"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.substr(result.output.size() - 3), "500");
}

TEST_F(HttpsServerTest, StartFailsCleanly) {
  StartServer(Options());
  HttpsServerOptions same_port = Options();
  same_port.port = server_->port();
  auto taken = HttpsServer::Start(same_port, Echo);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code(), StatusCode::kInternal);

  HttpsServerOptions bad_cert = Options();
  bad_cert.cert_file.clear();
  bad_cert.cert_pem = "not a certificate";
  auto invalid = HttpsServer::Start(bad_cert, Echo);
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().code(), StatusCode::kInvalid);

  HttpsServerOptions wrong_key = Options();
  wrong_key.key_file = pki_.admin_key_file().string();
  auto mismatch = HttpsServer::Start(wrong_key, Echo);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().code(), StatusCode::kInvalid);

  HttpsServerOptions bad_ca = Options();
  bad_ca.client_ca_pem = "nothing here";
  auto no_ca = HttpsServer::Start(bad_ca, Echo);
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_EQ(no_ca.error().code(), StatusCode::kInvalid);

  // The first server is unaffected.
  CommandResult ok = RunCommand(Curl("-o /dev/null -w '%{http_code}' " + Url("/")));
  EXPECT_EQ(ok.output, "200");
}

TEST_F(HttpsServerTest, HeadResponseHasNoBody) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Write("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client->ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_NE(head->headers["Content-Length"], "0");
  // The next response follows directly: no body bytes in between.
  ASSERT_TRUE(client->Get("/after"));
  auto after = client->ReadResponse();
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->body.find("path=/after"), std::string::npos);
}

TEST_F(HttpsServerTest, SlowHandlerDoesNotBlockOthers) {
  StartServer(Options());
  auto slow = Connect();
  ASSERT_NE(slow, nullptr);
  ASSERT_TRUE(slow->Get("/slow"));
  std::this_thread::sleep_for(50ms);
  auto fast = Connect();
  ASSERT_NE(fast, nullptr);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fast->Get("/fast"));
  ASSERT_TRUE(fast->ReadResponse().has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  ASSERT_TRUE(slow->ReadResponse().has_value());
}

TEST_F(HttpsServerTest, SixteenBusyKeepAliveClients) {
  HttpsServerOptions options = Options();
  options.io_threads = 2;
  StartServer(options);
  constexpr int kClients = 16;
  constexpr int kRequests = 300;
  std::atomic<int> ok{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Connect();
      if (client == nullptr) return;
      for (int i = 0; i < kRequests; ++i) {
        std::string target = "/c" + std::to_string(c) + "?i=" + std::to_string(i);
        if (!client->Get(target)) return;
        auto response = client->ReadResponse();
        if (!response || response->status != 200) return;
        if (response->body.find("query i=" + std::to_string(i) + "\n") == std::string::npos) return;
        ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  std::printf("%d keep-alive clients: %d requests in %.2f s (%.0f req/s)\n", kClients, ok.load(),
              elapsed, ok.load() / elapsed);
}

TEST_F(HttpsServerTest, IdleConnectionIsClosedAfterTimeout) {
  HttpsServerOptions options = Options();
  options.idle_timeout = 300ms;
  StartServer(options);
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get("/x"));
  ASSERT_TRUE(client->ReadResponse().has_value());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->ReadsEof());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  for (int i = 0; i < 50 && server_->ActiveConnections() != 0; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(server_->ActiveConnections(), 0u);
}

TEST_F(HttpsServerTest, StreamDeliversChunksFromAnotherThreadAndDetectsDisconnect) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get("/watch?watch=1"));
  auto head = client->ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["Transfer-Encoding"], "chunked");
  EXPECT_EQ(head->headers["Content-Type"], "application/json");
  EXPECT_EQ(head->headers.count("Content-Length"), 0u);

  auto streams = streams_.WaitFor(1);
  ASSERT_EQ(streams.size(), 1u);
  std::shared_ptr<ResponseStream> stream = streams[0];
  auto closed = std::make_shared<std::promise<void>>();
  stream->OnClose([closed] { closed->set_value(); });

  std::thread producer([stream] {
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(stream->Write("{\"n\":" + std::to_string(i) + "}\n"));
    EXPECT_TRUE(stream->Write(""));  // ignored, must not end the response
  });
  producer.join();
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "{\"n\":" + std::to_string(i) + "}\n";
  std::string received;
  while (received.size() < expected.size()) {
    auto chunk = client->ReadChunk();
    ASSERT_TRUE(chunk.has_value());
    ASSERT_FALSE(chunk->empty());
    received += *chunk;
  }
  EXPECT_EQ(received, expected);
  for (int i = 0; i < 100 && stream->PendingBytes() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(stream->PendingBytes(), 0u);
  EXPECT_FALSE(stream->Closed());

  client->Drop();
  ASSERT_EQ(closed->get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(stream->Closed());
  EXPECT_FALSE(stream->Write("late"));
  // OnClose after the fact runs at once.
  bool ran = false;
  stream->OnClose([&ran] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST_F(HttpsServerTest, ClosedStreamEndsResponseAndConnectionIsReused) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get("/watch"));
  ASSERT_TRUE(client->ReadHead().has_value());
  auto stream = streams_.WaitFor(1).at(0);
  auto close_callbacks = std::make_shared<std::atomic<int>>(0);
  stream->OnClose([close_callbacks] { ++*close_callbacks; });
  EXPECT_TRUE(stream->Write("a"));
  EXPECT_TRUE(stream->Write("b"));
  stream->Close();
  stream->Close();
  EXPECT_TRUE(stream->Closed());
  EXPECT_FALSE(stream->Write("after close"));
  EXPECT_EQ(client->ReadChunk(), "a");
  EXPECT_EQ(client->ReadChunk(), "b");
  EXPECT_EQ(client->ReadChunk(), "");

  ASSERT_TRUE(client->Get("/next"));
  auto next = client->ReadResponse();
  ASSERT_TRUE(next.has_value());
  EXPECT_NE(next->body.find("path=/next"), std::string::npos);
  EXPECT_EQ(close_callbacks->load(), 1);
  EXPECT_EQ(server_->ActiveConnections(), 1u);
}

TEST_F(HttpsServerTest, StreamClosedInsideStartStreamStillSendsHeaders) {
  auto server = HttpsServer::Start(Options(), [](HttpRequest&&) {
    HttpResponse response;
    response.start_stream = [](std::shared_ptr<ResponseStream> stream) {
      stream->Write("only");
      stream->Close();
    };
    return response;
  });
  ASSERT_TRUE(server.has_value());
  server_ = std::move(*server);
  CommandResult result = RunCommand(Curl(Url("/watch")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "only");
}

TEST_F(HttpsServerTest, CurlReadsStream) {
  StartServer(Options());
  std::thread feeder([this] {
    auto stream = streams_.WaitFor(1).at(0);
    stream->Write("line1\n");
    std::this_thread::sleep_for(50ms);
    stream->Write("line2\n");
    stream->Close();
  });
  CommandResult result = RunCommand(Curl("-N " + Url("/watch")));
  feeder.join();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "line1\nline2\n");
}

TEST_F(HttpsServerTest, StopClosesStreamsAndReturns) {
  StartServer(Options());
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get("/watch"));
  ASSERT_TRUE(client->ReadHead().has_value());
  auto stream = streams_.WaitFor(1).at(0);
  auto closed = std::make_shared<std::atomic<bool>>(false);
  stream->OnClose([closed] { *closed = true; });
  auto idle = Connect();
  ASSERT_NE(idle, nullptr);

  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(closed->load());
  EXPECT_FALSE(stream->Write("after stop"));
  EXPECT_TRUE(client->ReadsEof());
  EXPECT_TRUE(idle->ReadsEof());
  server_->Stop();  // idempotent
}

TEST_F(HttpsServerTest, ManyIdleStreamsAndBroadcast) {
  // Each stream needs a client and a server descriptor.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  const size_t count = std::min<size_t>(1000, (limit.rlim_cur - 100) / 2);
  StartServer(Options());

  std::vector<std::unique_ptr<TlsClient>> clients;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < count; ++i) {
    auto client = Connect();
    ASSERT_NE(client, nullptr) << i;
    ASSERT_TRUE(client->Get("/watch"));
    clients.push_back(std::move(client));
  }
  for (auto& client : clients) ASSERT_TRUE(client->ReadHead().has_value());
  auto streams = streams_.WaitFor(count);
  ASSERT_EQ(streams.size(), count);
  auto opened = std::chrono::steady_clock::now();

  for (auto& stream : streams) stream->Write("{\"type\":\"ADDED\"}\n");
  for (auto& client : clients) EXPECT_EQ(client->ReadChunk(), "{\"type\":\"ADDED\"}\n");
  auto broadcast = std::chrono::steady_clock::now();
  std::printf(
      "%zu streams: open %lld ms, broadcast %lld ms\n", count,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(opened - start).count()),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(broadcast - opened).count()));
  EXPECT_EQ(server_->ActiveConnections(), count);

  // Half the clients go away; as many streams close, the others stay open. (The
  // counter outlives the test body: the remaining streams close in TearDown.)
  auto closed = std::make_shared<std::atomic<size_t>>(0);
  for (auto& stream : streams) stream->OnClose([closed] { ++*closed; });
  for (size_t i = 0; i < count; i += 2) clients[i]->Drop();
  for (int i = 0; i < 500 && closed->load() < (count + 1) / 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(closed->load(), (count + 1) / 2);
  size_t still_open = 0;
  for (auto& stream : streams) still_open += stream->Closed() ? 0 : 1;
  EXPECT_EQ(still_open, count / 2);
}

}  // namespace
}  // namespace skiff
