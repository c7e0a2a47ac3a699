#include "client/in_process_client.h"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace skiff {

namespace {

// The server side of an in-process watch writes chunks here; the client side reads lines.
class MemoryStream final : public ResponseStream {
 public:
  // ResponseStream
  bool Write(std::string chunk) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    buffer_ += chunk;
    cv_.notify_all();
    return true;
  }
  // The server ends the watch, possibly while holding its own locks: the close callbacks
  // run later on the reader's thread (Next or Stop), never here, as a transport runs them
  // on a thread of its own.
  void Close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  size_t PendingBytes() const override {
    std::lock_guard lock(mu_);
    return buffer_.size() - consumed_;
  }
  bool Closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  void OnClose(std::function<void()> callback) override {
    {
      std::lock_guard lock(mu_);
      if (!closed_) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // Blocks for the next complete line; nullopt once closed and drained of full lines.
  std::optional<std::string> NextLine() {
    std::unique_lock lock(mu_);
    while (true) {
      size_t nl = buffer_.find('\n', consumed_);
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {
          buffer_.erase(0, consumed_);
          consumed_ = 0;
        }
        if (line.empty()) continue;
        return line;
      }
      if (closed_) {
        lock.unlock();
        RunCloseCallbacks();
        return std::nullopt;
      }
      cv_.wait(lock);
    }
  }

  // The reader ends the watch (or has seen it end): closes it and runs the callbacks.
  void CloseAndNotify() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      cv_.notify_all();
    }
    RunCloseCallbacks();
  }

 private:
  void RunCloseCallbacks() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mu_);
      callbacks.swap(callbacks_);
    }
    for (auto& cb : callbacks) cb();
  }

 public:
 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;                            // protected by mu_
  size_t consumed_ = 0;                           // protected by mu_
  bool closed_ = false;                           // protected by mu_
  std::vector<std::function<void()>> callbacks_;  // protected by mu_
};

class InProcessWatch final : public WatchStream {
 public:
  explicit InProcessWatch(std::shared_ptr<MemoryStream> stream) : stream_(std::move(stream)) {}
  ~InProcessWatch() override { Stop(); }
  std::optional<std::string> Next() override { return stream_->NextLine(); }
  void Stop() override { stream_->CloseAndNotify(); }

 private:
  const std::shared_ptr<MemoryStream> stream_;
};

// Waits for a deferred answer (a create the store commits later) and builds it here.
HttpResponse AwaitDeferred(HttpResponse response) {
  struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    HttpResponse::Builder build;  // protected by mu
    bool ready = false;           // protected by mu
  };
  auto outcome = std::make_shared<Outcome>();
  response.deferred([outcome](HttpResponse::Builder build) {
    std::lock_guard lock(outcome->mu);
    outcome->build = std::move(build);
    outcome->ready = true;
    outcome->cv.notify_all();
  });
  std::unique_lock lock(outcome->mu);
  outcome->cv.wait(lock, [&] { return outcome->ready; });
  return outcome->build();
}

}  // namespace

InProcessClient::InProcessClient(HttpHandler handler, std::string user,
                                 std::vector<std::string> groups)
    : handler_(std::move(handler)), identity_{std::move(user), std::move(groups)} {}

HttpRequest InProcessClient::MakeRequest(std::string_view method, std::string_view target,
                                         std::string_view body,
                                         std::string_view content_type) const {
  HttpRequest req;
  req.method = std::string(method);
  req.target = std::string(target);
  ParseRequestTarget(req.target, req);
  req.headers.emplace("Accept", "application/json");
  if (!body.empty()) req.headers.emplace("Content-Type", std::string(content_type));
  req.body = std::string(body);
  // Trusted like a client certificate the transport verified.
  req.peer = identity_;
  req.remote_address = "in-process";
  return req;
}

Result<ClientResponse> InProcessClient::Do(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view content_type) {
  HttpResponse response = handler_(MakeRequest(method, target, body, content_type));
  if (response.deferred) response = AwaitDeferred(std::move(response));
  if (response.start_stream) {
    return Err(StatusCode::kBadRequest, "a streamed answer needs Watch: " + std::string(target));
  }
  return ClientResponse{response.status, std::move(response.body)};
}

Result<std::unique_ptr<WatchStream>> InProcessClient::Watch(std::string_view target) {
  HttpResponse response = handler_(MakeRequest("GET", target, {}, {}));
  if (response.deferred) response = AwaitDeferred(std::move(response));
  if (!response.start_stream) {
    return std::unexpected(StatusFromResponse({response.status, std::move(response.body)}));
  }
  auto stream = std::make_shared<MemoryStream>();
  response.start_stream(stream);
  return std::unique_ptr<WatchStream>(std::make_unique<InProcessWatch>(std::move(stream)));
}

}  // namespace skiff
