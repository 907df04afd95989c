#pragma once
// RFC 6455 framing for the engine's WebSocket client: the opening handshake's
// key and accept values, frame encoding (a client masks every frame) and an
// incremental frame parser that reassembles fragmented messages.
//
// Why hand-written (no libwebsockets, no websocketpp): the parser runs on the
// hot path of every received message, inside the engine's own event loop, fed
// from the loop's shared 64 KiB scratch buffer. It keeps only a 14-byte header
// and the message being assembled, never allocates for a control frame, and
// hands out views. The libraries bring their own loops (websocketpp: asio) and
// per-message allocations, which is what the engine is built to avoid.
// RFC 6455's framing is small and fully specified; the unit tests feed it the
// RFC's own examples and the fuzz target splits every input at every size.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herd::engine::websocket {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes the client sends or looks for (RFC 6455 7.4.1).
constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseInvalidData = 1007;
constexpr uint16_t kCloseTooBig = 1009;

// Control frames carry at most 125 payload bytes (RFC 6455 5.5).
constexpr size_t kMaxControlPayload = 125;

// Sec-WebSocket-Key for 16 random bytes: their base64 (24 characters).
std::string handshakeKey(const std::array<uint8_t, 16>& nonce);
// 16 bytes from OpenSSL's CSPRNG, as RFC 6455 4.1 asks of the nonce.
std::array<uint8_t, 16> randomNonce();
// The Sec-WebSocket-Accept a server must answer to `key`: base64(SHA-1(key + GUID)).
std::string acceptFor(std::string_view key);

// Appends one frame to `out`. A client passes `masked` with a fresh `mask_key`
// per frame (RFC 6455 5.3); the payload is copied masked.
void appendFrame(std::string& out, Opcode opcode, std::string_view payload, bool fin, bool masked, uint32_t mask_key);
// The payload of a close frame: the status code, big-endian, then the reason.
std::string closePayload(uint16_t code, std::string_view reason);

// One thing the parser found. Views stay valid until the next feed() or reset().
struct FrameEvent {
  enum class Kind : uint8_t {
    kNeedMore,  // everything given was consumed; feed more
    kMessage,   // a whole data message (text or binary), fragments joined
    kPing,
    kPong,
    kClose,  // `close_code` (0: none sent) and `payload` (the reason)
    kError,  // the stream broke the protocol; `close_code` says how; parser stays in error
  };
  Kind kind = Kind::kNeedMore;
  Opcode opcode = Opcode::kText;  // kMessage: kText or kBinary
  uint16_t close_code = 0;
  std::string_view payload;
};

class FrameParser {
 public:
  // Frames from a server are never masked, frames from a client always are
  // (RFC 6455 5.1); the other kind is a protocol error. `max_message` bounds
  // a whole message, fragments together (close code 1009 beyond it).
  enum class Peer : uint8_t { kServer, kClient };
  explicit FrameParser(size_t max_message, Peer peer = Peer::kServer) : max_message_(max_message), peer_(peer) {}

  // Consumes bytes from `data` until it has an event or the bytes run out;
  // `consumed` says how many. Call again with the rest after each event.
  FrameEvent feed(std::string_view data, size_t& consumed);
  void reset();
  bool failed() const { return failed_; }

 private:
  FrameEvent readHeader(std::string_view data, size_t& consumed);
  FrameEvent startPayload();
  FrameEvent finishFrame();
  FrameEvent fail(uint16_t code);
  void takePayload(std::string_view data, size_t& consumed);

  const size_t max_message_;
  const Peer peer_;
  bool failed_ = false;
  bool in_payload_ = false;
  bool in_message_ = false;  // a fragmented data message is being assembled
  bool fin_ = false;
  bool masked_ = false;
  Opcode opcode_ = Opcode::kText;          // of the frame being read
  Opcode message_opcode_ = Opcode::kText;  // of the message being assembled
  uint8_t header_size_ = 0;                // bytes of header_ read so far
  std::array<uint8_t, 14> header_{};
  std::array<uint8_t, 4> mask_{};
  uint64_t payload_left_ = 0;
  uint64_t payload_read_ = 0;  // of the current frame, for the mask's phase
  std::string message_;        // the data message being assembled
  std::string control_;        // the control frame being read (<= 125 bytes)
};

// RFC 3629 UTF-8, no overlongs or surrogates: text messages must be valid.
bool validUtf8(std::string_view text);

}  // namespace herd::engine::websocket
