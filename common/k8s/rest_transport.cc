// The cpprestsdk adapter: the only file that includes cpprestsdk (and, through
// it, Boost.Asio). Every exception the library throws is caught here and turned
// into a herd::Error naming the request.
#include <algorithm>
#include <chrono>
#include <mutex>

#include <openssl/ssl.h>

// cpprestsdk's U() macro breaks fmt (included by spdlog); this turns it off.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>
#include <boost/asio/ssl.hpp>

#include "common/core/logging.h"
#include "common/k8s/config.h"
#include "common/k8s/transport.h"

namespace herd::k8s {
namespace {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

// Applies the configuration's TLS material. Throws boost::system::system_error
// on unusable PEM data; makeRestTransport calls it once up front so that the
// same call inside cpprestsdk (where a throw has nowhere good to go) cannot fail.
void configureTls(const Config& c, boost::asio::ssl::context& ctx) {
  if (!c.ca_pem.empty()) {
    // A kubeconfig's CA replaces the system trust store rather than adding to
    // it, as kubectl does: a public CA must not vouch for our apiserver.
    SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
    ctx.add_certificate_authority(boost::asio::buffer(c.ca_pem));
  }
  if (!c.client_cert_pem.empty()) ctx.use_certificate_chain(boost::asio::buffer(c.client_cert_pem));
  if (!c.client_key_pem.empty()) {
    ctx.use_private_key(boost::asio::buffer(c.client_key_pem), boost::asio::ssl::context::pem);
  }
}

std::string describeException(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const http::http_exception& ex) {
    return ex.what();
  } catch (const pplx::task_canceled&) {
    return "cancelled";
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

class RestBodyStream final : public BodyStream {
 public:
  RestBodyStream(std::unique_ptr<http_client> client, pplx::cancellation_token_source cts, http::http_response response,
                 std::string where)
      : client_(std::move(client)), cts_(std::move(cts)), response_(std::move(response)), where_(std::move(where)) {}

  ~RestBodyStream() override { cancel(); }

  Result<std::string> read() override {
    try {
      auto buf = response_.body().streambuf();
      // bumpc waits until at least one byte (or the end) is there; getn(n) on a
      // producer-consumer buffer would wait for n bytes, which a quiet watch may
      // never send. So: one byte, then whatever else has already arrived.
      using Traits = decltype(buf)::traits;
      auto first = buf.bumpc().get();
      if (first == Traits::eof()) return std::string{};  // int_type is int
      std::string out(1, static_cast<char>(first));
      if (size_t more = buf.in_avail(); more > 0) {
        out.resize(1 + more);
        size_t got = buf.getn(reinterpret_cast<uint8_t*>(out.data() + 1), more).get();
        out.resize(1 + got);
      }
      return out;
    } catch (...) {
      if (cts_.get_token().is_canceled()) return Error{"watch cancelled", where_};
      return Error{"reading response body: " + describeException(std::current_exception()), where_};
    }
  }

  // Cancelling the token closes the connection inside cpprestsdk, which fails the
  // pending body read; safe to call more than once and from any thread.
  void cancel() override {
    std::lock_guard lock(mu_);
    if (!cts_.get_token().is_canceled()) cts_.cancel();
  }

 private:
  std::unique_ptr<http_client> client_;  // owns the connection the body arrives on
  pplx::cancellation_token_source cts_;
  http::http_response response_;
  std::string where_;
  std::mutex mu_;
};

class RestTransport final : public Transport {
 public:
  explicit RestTransport(Config config) : config_(std::move(config)) { unary_ = makeClient(config_.request_timeout); }

  Result<HttpResponse> send(const HttpRequest& request) override {
    const std::string where = request.method + " " + config_.server + request.path_query;
    try {
      auto req = toCpprest(request);
      if (!req.ok()) return Error{req.error().message, where};
      http::http_response resp = unary_->request(*req).get();
      std::vector<unsigned char> bytes = resp.extract_vector().get();
      return HttpResponse{resp.status_code(), std::string(bytes.begin(), bytes.end())};
    } catch (...) {
      return Error{describeException(std::current_exception()), where};
    }
  }

  Result<StreamResponse> stream(const HttpRequest& request, std::chrono::seconds idle_timeout) override {
    const std::string where = request.method + " " + config_.server + request.path_query;
    try {
      auto req = toCpprest(request);
      if (!req.ok()) return Error{req.error().message, where};
      // A client per stream: its timeout differs from unary requests', and a
      // watch holds its connection for minutes, which a shared pool gains nothing from.
      auto client = makeClient(idle_timeout);
      pplx::cancellation_token_source cts;
      http::http_response resp = client->request(*req, cts.get_token()).get();
      int status = resp.status_code();
      return StreamResponse{
          status, std::make_unique<RestBodyStream>(std::move(client), std::move(cts), std::move(resp), where)};
    } catch (...) {
      return Error{describeException(std::current_exception()), where};
    }
  }

  std::string server() const override { return config_.server; }

 private:
  std::unique_ptr<http_client> makeClient(std::chrono::seconds timeout) const {
    http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(!config_.insecure_skip_verify);
    Config tls = config_;  // the callback outlives this call; copy what it needs
    cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      try {
        configureTls(tls, ctx);
      } catch (const std::exception& e) {
        // Unreachable after makeRestTransport's check; if it happens the
        // handshake fails for want of a certificate, which is reported then.
        herd::logger("k8s")->error("TLS setup failed: {}", e.what());
      }
    });
    return std::make_unique<http_client>(web::uri(config_.server), cfg);
  }

  Result<http::http_request> toCpprest(const HttpRequest& r) {
    http::http_request req(r.method);
    try {
      req.set_request_uri(web::uri(r.path_query));
    } catch (const std::exception& e) {
      return Error{std::string("bad request URI: ") + e.what(), ""};
    }
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", config_.user_agent);
    if (auto token = bearerToken(); !token.empty()) req.headers().add("Authorization", "Bearer " + token);
    if (!r.body.empty() || !r.content_type.empty()) req.set_body(r.body, r.content_type);
    return req;
  }

  // The token, re-read from token_file at most once a minute (see Config).
  std::string bearerToken() {
    if (config_.token_file.empty()) return config_.token;
    std::lock_guard lock(token_mu_);
    auto now = std::chrono::steady_clock::now();
    if (token_read_.time_since_epoch().count() == 0 || now - token_read_ > std::chrono::minutes(1)) {
      if (auto t = readFile(config_.token_file); t.ok()) {
        token_ = *t;
        while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
      } else {
        herd::logger("k8s")->warn("cannot re-read token: {}", t.error().describe());
      }
      token_read_ = now;
    }
    return token_;
  }

  Config config_;
  std::unique_ptr<http_client> unary_;
  std::mutex token_mu_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_{};
};

}  // namespace

Result<std::unique_ptr<Transport>> makeRestTransport(const Config& config) {
  if (config.server.empty()) return Error{"no server URL in the configuration", "k8s config"};
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23);
    configureTls(config, probe);
  } catch (const std::exception& e) {
    return Error{std::string("unusable TLS material (CA, client certificate or key): ") + e.what(), config.server};
  }
  try {
    web::uri check(config.server);
    if (check.scheme() != "https" && check.scheme() != "http") {
      return Error{"server URL must be http or https", config.server};
    }
    return std::unique_ptr<Transport>(std::make_unique<RestTransport>(config));
  } catch (const std::exception& e) {
    return Error{std::string("bad server URL: ") + e.what(), config.server};
  }
}

}  // namespace herd::k8s
