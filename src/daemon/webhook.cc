#include "daemon/webhook.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "common/log.h"
#include "daemon/http_api.h"
#include "daemon/httplib_adapter.h"

namespace dbbackup::daemon {
namespace {

using Steady = std::chrono::steady_clock;

// scheme://authority and the rest (path and query, "/" if none).
struct SplitUrl {
  std::string origin;
  std::string target;
};

bool Split(const std::string& url, SplitUrl* out) {
  static const std::regex kUrl(R"(^(https?://[^/?#\s]+)([^#\s]*)$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return false;
  out->origin = m[1];
  out->target = m[2].length() == 0 ? "/" : m[2].str();
  if (out->target[0] == '?') out->target = "/" + out->target;
  return true;
}

}  // namespace

Status ValidateWebhookUrl(const std::string& url) {
  SplitUrl u;
  if (!Split(url, &u)) {
    return Status::InvalidArgument("webhook URL must be http:// or https:// with a host, got '" +
                                   RedactWebhookUrl(url) + "'");
  }
  return Status::OK();
}

std::string RedactWebhookUrl(const std::string& url) {
  SplitUrl u;
  if (!Split(url, &u)) return "(invalid URL)";
  return u.target == "/" ? u.origin : u.origin + "/...";
}

Status HttpWebhookPost(const std::string& url, const std::string& json_body,
                       std::chrono::milliseconds timeout) {
  SplitUrl u;
  if (!Split(url, &u)) return ValidateWebhookUrl(url);
  try {
    httplib::Client client(u.origin);
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
    client.set_connection_timeout(secs.count(), usecs.count());
    client.set_read_timeout(secs.count(), usecs.count());
    client.set_write_timeout(secs.count(), usecs.count());
    client.enable_server_certificate_verification(true);
    httplib::Result r =
        client.Post(u.target, {{"User-Agent", "dbbackup"}}, json_body, "application/json");
    if (!r) {
      return Status::Unavailable("no answer (" + httplib::to_string(r.error()) + ")")
          .WithRetryable(true);
    }
    if (r->status >= 200 && r->status < 300) return Status::OK();
    const std::string what = "HTTP " + std::to_string(r->status);
    if (r->status == 408 || r->status == 429 || r->status >= 500) {
      return Status::Unavailable(what).WithRetryable(true);
    }
    return Status::FailedPrecondition(what);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("webhook: ") + e.what());
  }
}

bool WantsWebhook(const WebhookTarget& target, const JobRecord& job) {
  if (target.url.empty() || !job.Finished()) return false;
  return job.state == kJobFailed || target.on_success;
}

std::string WebhookMessage(const JobRecord& job) {
  nlohmann::json m = nlohmann::json::parse(JobJson(job));
  const bool failed = job.state == kJobFailed;
  nlohmann::json duration = nullptr;
  if (m["result"].is_object() && m["result"]["duration_s"].is_number()) {
    duration = m["result"]["duration_s"];
  }
  std::string text = std::string(failed ? ":x:" : ":white_check_mark:") + " dbbackup: " + job.kind +
                     " of " + job.database + " " + job.state + " (job " + job.id + ", " +
                     job.trigger + ")";
  if (failed) {
    text += ": " + job.error;
  } else if (duration.is_number()) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", duration.get<double>());
    text += std::string(" in ") + secs + " s";
  }
  m["text"] = text;
  m["job_id"] = job.id;
  m["duration_s"] = duration;
  return m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

WebhookNotifier::WebhookNotifier(WebhookOptions options, WebhookPost post)
    : options_(std::move(options)), post_(std::move(post)) {
  sender_ = std::thread([this] { SenderLoop(); });
}

WebhookNotifier::~WebhookNotifier() { Shutdown(std::chrono::milliseconds(0)); }

void WebhookNotifier::Notify(const WebhookTarget& target, const JobRecord& job) {
  if (!WantsWebhook(target, job)) return;
  Message m{target.url, WebhookMessage(job), "job " + job.id};
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (queue_.size() >= options_.max_queued) {
    log::Warning("webhook " + RedactWebhookUrl(queue_.front().url) + ": " + queue_.front().what +
                 ": dropped, too many messages waiting");
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(std::move(m));
  cv_.notify_all();
}

void WebhookNotifier::SenderLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Message m = std::move(queue_.front());
    queue_.pop_front();
    Status s;
    int tries = 0;
    bool delivered = false;
    auto backoff = options_.first_backoff;
    for (int attempt = 0; attempt < std::max(1, options_.attempts); ++attempt) {
      if (attempt > 0) {
        // Wait out the backoff, unless the shutdown deadline comes first.
        const auto backoff_end = Steady::now() + backoff;
        backoff *= 2;
        while (true) {
          const auto until = std::min(backoff_end, give_up_at_);  // Shutdown moves give_up_at_
          if (Steady::now() >= until) break;
          cv_.wait_until(lock, until);
        }
      }
      const auto now = Steady::now();
      if (now >= give_up_at_) {
        s = Status::Cancelled("the daemon shut down");
        break;
      }
      auto timeout = options_.timeout;
      if (give_up_at_ != Steady::time_point::max()) {
        timeout = std::min(
            timeout, std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at_ - now));
      }
      lock.unlock();
      s = post_(m.url, m.body, timeout);
      lock.lock();
      ++tries;
      if (s.ok()) delivered = true;
      if (s.ok() || !s.retryable()) break;
    }
    if (delivered) {
      ++delivered_;
      continue;
    }
    ++dropped_;
    lock.unlock();
    log::Warning("webhook " + RedactWebhookUrl(m.url) + ": " + m.what + " not delivered after " +
                 std::to_string(tries) + (tries == 1 ? " try: " : " tries: ") + s.message());
    lock.lock();
  }
}

void WebhookNotifier::Shutdown(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mu_);
    if (!sender_.joinable()) return;
    stopping_ = true;
    give_up_at_ = Steady::now() + deadline;
    cv_.notify_all();
  }
  sender_.join();
  std::lock_guard lock(mu_);
  dropped_ += static_cast<int>(queue_.size());
  queue_.clear();
}

int WebhookNotifier::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

int WebhookNotifier::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace dbbackup::daemon
