#include "agent/remote/coordinator_client.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "common/core/logging.h"
#include "herd/v1/agent.grpc.pb.h"

namespace herd::remote {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(20);
constexpr auto kWriterPoll = std::chrono::milliseconds(50);
constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(1);
constexpr auto kHangUpWait = std::chrono::seconds(2);

using Stream = grpc::ClientReaderWriter<v1::AgentMessage, v1::CoordinatorMessage>;

Result<std::string> readPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the file", std::string(flag) + " " + path};
  std::ostringstream pem;
  pem << in.rdbuf();
  if (pem.str().find("-----BEGIN ") == std::string::npos)
    return Error{"not a PEM file", std::string(flag) + " " + path};
  return pem.str();
}

// TLS when a CA is given: the coordinator's certificate must chain to it and
// name the host dialled (or tls_server_name); a certificate and key of our
// own are presented to a coordinator that requires them (mTLS).
Result<std::shared_ptr<grpc::ChannelCredentials>> channelCredentials(const ClientOptions& options) {
  const bool own_pair = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (options.tls_ca_file.empty()) {
    if (own_pair) return Error{"a client certificate needs TLS: add --tls-ca", "--tls-cert/--tls-key"};
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  auto ca = readPem(options.tls_ca_file, "--tls-ca");
  if (!ca) return ca.error();
  ssl.pem_root_certs = *ca;
  if (own_pair) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return Error{"a client certificate needs both --tls-cert and --tls-key", "--tls-cert/--tls-key"};
    }
    auto cert = readPem(options.tls_cert_file, "--tls-cert");
    if (!cert) return cert.error();
    auto key = readPem(options.tls_key_file, "--tls-key");
    if (!key) return key.error();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

Result<std::shared_ptr<grpc::Channel>> makeChannel(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // gRPC takes this as the time a connection attempt (TCP and the TLS
  // handshake) may last, not as a backoff: 100 ms cut TLS handshakes on a busy
  // node. Redials stay quick: the backoff is the two around it.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  // No bandwidth-delay probing (a PING after each burst of data, which the
  // coordinator must read and answer): a report a second needs no larger window,
  // and at a thousand agents the answers were a third of the coordinator's writes.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto credentials = channelCredentials(options);
  if (!credentials) return credentials.error();
  if (!options.tls_ca_file.empty() && !options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.coordinator, *credentials, args);
}

// One stream's life: Hello, then messages both ways until it breaks or the
// run is over. Returns whether a Welcome arrived (the stream really worked).
bool runStream(v1::Coordinator::Stub& stub, runtime::AgentSession& session, const ClientOptions& options,
               std::string& why) {
  auto log = logger("agent");
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = stub.Connect(&context);
  // The session's messages go through a queue so the session never blocks on
  // the network; a writer thread drains it (gRPC allows one writer at a time).
  std::mutex queue_mutex;
  std::condition_variable queue_ready;
  std::deque<v1::AgentMessage> queue;
  bool closing = false;
  std::atomic<int64_t> last_heard{MonoClock::now().time_since_epoch().count()};
  // Silence counts only while we listen: the time spent on a message (the
  // Welcome's target check resolves names and connects, which may take many
  // seconds in a pod just started) is ours, and the coordinator's messages
  // wait for us meanwhile.
  std::atomic<bool> busy{false};

  {
    v1::AgentMessage hello;
    *hello.mutable_hello() = session.hello(options.token);
    queue.push_back(std::move(hello));
  }
  session.attach([&](v1::AgentMessage&& message) {
    if (options.on_send) options.on_send(message);
    {
      std::lock_guard lock(queue_mutex);
      if (closing) return;
      queue.push_back(std::move(message));
    }
    queue_ready.notify_one();
  });
  std::thread writer([&] {
    std::unique_lock lock(queue_mutex);
    for (;;) {
      queue_ready.wait_for(lock, kWriterPoll, [&] { return closing || !queue.empty(); });
      // Queued messages go out even when closing (a last Event must arrive).
      while (!queue.empty()) {
        auto message = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        const bool written = stream->Write(message);
        lock.lock();
        if (!written) {
          closing = true;
          queue.clear();
        }
      }
      if (closing) break;
      const auto silent = MonoClock::now() - MonoTime(Nanos(last_heard.load()));
      if (!busy.load() && silent > options.silence_timeout) {
        log->warn("nothing from the coordinator for {:.1f}s; reconnecting",
                  std::chrono::duration<double>(silent).count());
        context.TryCancel();
        break;
      }
    }
  });

  bool welcomed = false;
  v1::CoordinatorMessage message;
  while (stream->Read(&message)) {
    busy.store(true);
    if (message.has_refused()) why = "refused: " + message.refused().message();
    if (message.has_welcome()) {
      welcomed = true;
      if (!session.prepared()) {
        if (auto prepared = session.prepare(message.welcome()); !prepared) {
          why = prepared.error().describe();
          v1::AgentMessage fatal;
          fatal.mutable_event()->set_level("fatal");
          fatal.mutable_event()->set_message(why);
          fatal.mutable_event()->set_exit_code(session.invalidInput() ? 2 : 3);
          {
            std::lock_guard lock(queue_mutex);
            queue.push_back(std::move(fatal));  // the coordinator ends the run with this reason
          }
          queue_ready.notify_one();
          session.fail(why);
          break;
        }
      }
    }
    session.onMessage(message);
    if (session.done()) break;
    last_heard.store(MonoClock::now().time_since_epoch().count());
    busy.store(false);
  }
  session.detach();
  {
    std::lock_guard lock(queue_mutex);
    closing = true;
  }
  queue_ready.notify_all();
  writer.join();
  if (session.done()) {
    // Our side is over; let the coordinator close the stream (so what we wrote
    // last arrives), but do not wait on it for long.
    stream->WritesDone();
    std::mutex hang_up_mutex;
    std::condition_variable hung_up;
    bool ended = false;
    std::thread hang_up([&] {
      std::unique_lock lock(hang_up_mutex);
      if (!hung_up.wait_for(lock, kHangUpWait, [&] { return ended; })) context.TryCancel();
    });
    v1::CoordinatorMessage rest;
    while (stream->Read(&rest)) {
    }
    {
      std::lock_guard lock(hang_up_mutex);
      ended = true;
    }
    hung_up.notify_all();
    hang_up.join();
  }
  const auto status = stream->Finish();
  if (why.empty()) {
    why = status.ok() ? "the coordinator closed the stream"
                      : fmt::format("{} (gRPC code {})", status.error_message(), static_cast<int>(status.error_code()));
    // A TLS coordinator closes a plaintext connection without a word, and one
    // requiring client certificates closes the connection of an agent without.
    if (!welcomed && why.find("Socket closed") != std::string::npos) {
      if (options.tls_ca_file.empty()) why += "; if the coordinator serves TLS, pass --tls-ca";
      else if (options.tls_cert_file.empty())
        why += "; if it requires client certificates (mTLS), pass --tls-cert and --tls-key";
    }
  }
  return welcomed;
}

}  // namespace

AgentOutcome runAgent(runtime::AgentSession& session, const ClientOptions& options) {
  auto log = logger("agent");
  auto channel = makeChannel(options);
  if (!channel) return {3, channel.error().describe()};
  auto stub = v1::Coordinator::NewStub(*channel);

  std::atomic<bool> over{false};
  std::thread driver([&] {
    while (!over.load()) {
      if (options.leave && options.leave->load()) session.leave();
      session.poll();
      std::this_thread::sleep_for(kPoll);
    }
  });
  auto last_working = MonoClock::now();
  Nanos backoff = kMinBackoff;
  AgentOutcome outcome;
  // gRPC names a failed TLS handshake once, later attempts say less
  // ("tcp handshaker shutdown"): the giving-up message keeps the reason.
  std::string refusal;
  for (;;) {
    std::string why;
    const bool welcomed = runStream(*stub, session, options, why);
    if (why.find("andshake failed") != std::string::npos || why.find("not in peer certificate") != std::string::npos ||
        why.find("; if ") != std::string::npos) {
      refusal = why;
    }
    if (welcomed) {
      refusal.clear();
      last_working = MonoClock::now();
      backoff = kMinBackoff;
    }
    if (session.done()) {
      const int code = session.invalidInput() ? 2 : 3;
      if (auto failed = session.failed()) outcome = {code, "this agent cannot run the scenario: " + *failed};
      else if (auto refused = session.refused()) outcome = {code, "the coordinator refused this agent: " + *refused};
      else if (options.leave && options.leave->load()) outcome = {0, "left the run; every report is delivered"};
      else outcome = {0, "the run is over"};
      break;
    }
    if (session.delivered() && MonoClock::now() - last_working > std::chrono::seconds(5)) {
      // Everything we measured is counted; the coordinator has gone away
      // before saying goodbye (it ended the run).
      outcome = {0, "the run is over (final report acknowledged)"};
      break;
    }
    if (MonoClock::now() - last_working > options.reconnect_timeout) {
      outcome = {3, fmt::format("no coordinator at {} for {:.0f}s (last: {}); giving up with {} report(s) undelivered",
                                options.coordinator, std::chrono::duration<double>(options.reconnect_timeout).count(),
                                refusal.empty() ? why : refusal, session.unacked())};
      break;
    }
    log->info("stream to {} ended ({}); redialling in {} ms, {} report(s) waiting", options.coordinator, why,
              std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count(), session.unacked());
    // Waiting on the channel rather than sleeping: gRPC's background attempt to
    // reconnect (TCP, then the TLS handshake's round trips) advances only while
    // some thread polls the channel, and a call that fails fast polls nothing.
    // It returns early once connected.
    (*channel)->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::duration_cast<std::chrono::system_clock::duration>(backoff));
    backoff = std::min<Nanos>(backoff * 2, kMaxBackoff);
  }
  over.store(true);
  driver.join();
  return outcome;
}

}  // namespace herd::remote
