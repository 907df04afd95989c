// One GET of / per iteration: the C++ twin of the YAML class `steps: [{get: /}]`
// that bench/compiled-compare runs beside it.
#include <herd/herd.h>

namespace {

class Fetch : public herd::UserClass {
 public:
  herd::Task iteration(herd::User& user) override {
    herd::Request request;
    request.endpoint = "cpp";
    request.read_body = false;
    request.read_headers = false;
    co_await user.request(std::move(request));
  }
};

}  // namespace

HERD_SCENARIO(herd::userClass<Fetch>("Fetch", {"GET cpp"}))
