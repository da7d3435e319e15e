// Webhook alarms: when a job fails (and, if asked, when one succeeds) the
// daemon POSTs a JSON message to the database's webhook URL:
//
//   {"text": ":x: dbbackup: backup of app.db failed (job abc123def456): ...",
//    "database": "app.db", "job_id": "abc123def456", "kind": "backup",
//    "state": "failed", "trigger": "schedule", "error": "..." | null,
//    "created_at": ISO 8601, "started_at": ..., "finished_at": ...,
//    "duration_s": 1.2 | null, "result": {...} | null}
//
// `text` makes it a valid Slack (and Mattermost, Rocket.Chat) incoming
// webhook message; the other fields are for machines.
//
// Delivery never fails or delays a job: messages go into a bounded queue
// that one sender thread drains, with retries and exponential backoff on
// connection errors, 408, 429 and 5xx (4xx other than those are final).
// Failed deliveries are logged (without the URL's secret path) and dropped.
//
// Configured by BACKUP_WEBHOOK_URL / BACKUP_WEBHOOK_ON_SUCCESS (environment
// or .env), or per database with webhook_url / webhook_on_success in the
// --config file (config.h).
//
// Thread-safety: Notify and Shutdown may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "daemon/state_db.h"

namespace dbbackup::daemon {

struct WebhookTarget {
  // http:// or https:// URL; "" = no alarms. Default: "".
  std::string url;
  // Also notify succeeded jobs. Default: false (failures only).
  bool on_success = false;
};

struct WebhookOptions {
  // Tries per message (>= 1). Default: 4.
  int attempts = 4;
  // Wait before the second try; doubles for each further one. Default: 1 s.
  std::chrono::milliseconds first_backoff{1000};
  // Connect + read timeout of one try. Default: 10 s.
  std::chrono::milliseconds timeout{10000};
  // Messages waiting beyond this are dropped (oldest first). Default: 100.
  size_t max_queued = 100;
};

// Sends one POST: OK on 2xx; kUnavailable (retryable) for connection
// errors, 408, 429 and 5xx; kFailedPrecondition for other statuses.
using WebhookPost = std::function<Status(const std::string& url, const std::string& json_body,
                                         std::chrono::milliseconds timeout)>;

// The real WebhookPost (cpp-httplib; https verifies the peer with the
// system's CA certificates). kInvalidArgument for a URL it cannot use.
Status HttpWebhookPost(const std::string& url, const std::string& json_body,
                       std::chrono::milliseconds timeout);

// kInvalidArgument unless `url` is an http:// or https:// URL with a host.
Status ValidateWebhookUrl(const std::string& url);

// The URL without its path and query (Slack's secret lives in the path), for logs.
std::string RedactWebhookUrl(const std::string& url);

// The message for a finished job (see above).
std::string WebhookMessage(const JobRecord& job);

// True if `target` wants a message for `job` (finished; failed, or
// succeeded with on_success).
bool WantsWebhook(const WebhookTarget& target, const JobRecord& job);

class WebhookNotifier {
 public:
  // Starts the sender thread. `post` defaults to HttpWebhookPost.
  explicit WebhookNotifier(WebhookOptions options = {}, WebhookPost post = HttpWebhookPost);
  // Shutdown(0) if not yet shut down.
  ~WebhookNotifier();
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // Queues the job's message if WantsWebhook; returns at once.
  void Notify(const WebhookTarget& target, const JobRecord& job);

  // Gives the queued messages up to `deadline` to be delivered (retries
  // included), then drops the rest and joins the sender.
  void Shutdown(std::chrono::milliseconds deadline);

  // Messages delivered / given up on so far.
  int delivered() const;
  int dropped() const;

 private:
  struct Message {
    std::string url;
    std::string body;
    std::string what;  // "job <id>" for logs
  };
  void SenderLoop();

  const WebhookOptions options_;
  const WebhookPost post_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point give_up_at_ = std::chrono::steady_clock::time_point::max();
  int delivered_ = 0;
  int dropped_ = 0;
  std::thread sender_;
};

}  // namespace dbbackup::daemon
