#include "agent/engine/websocket_frame.h"

#include <algorithm>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace herd::engine::websocket {
namespace {

// RFC 6455 1.3: the GUID every server appends to the key before hashing.
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(std::max(written, 0)));
  return out;
}

bool isControl(Opcode opcode) { return (static_cast<uint8_t>(opcode) & 0x8) != 0; }

bool knownOpcode(uint8_t opcode) { return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA); }

// Codes a peer may put in a close frame (RFC 6455 7.4.1 and 7.4.2; 1004-1006
// and 1015 are reserved for reporting, never sent).
bool validCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

size_t extendedLengthSize(uint8_t length7) { return length7 == 126 ? 2 : length7 == 127 ? 8 : 0; }

}  // namespace

std::array<uint8_t, 16> randomNonce() {
  std::array<uint8_t, 16> nonce{};
  // RAND_bytes fails only when the CSPRNG cannot be seeded; the key then is
  // still unique enough for the handshake, which is all a client needs of it.
  RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
  return nonce;
}

std::string handshakeKey(const std::array<uint8_t, 16>& nonce) { return base64(nonce.data(), nonce.size()); }

std::string acceptFor(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

void appendFrame(std::string& out, Opcode opcode, std::string_view payload, bool fin, bool masked, uint32_t mask_key) {
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  const uint64_t size = payload.size();
  if (size < 126) {
    out.push_back(static_cast<char>(mask_bit | size));
  } else if (size <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  }
  if (!masked) {
    out.append(payload);
    return;
  }
  const char mask[4] = {static_cast<char>(mask_key >> 24), static_cast<char>(mask_key >> 16),
                        static_cast<char>(mask_key >> 8), static_cast<char>(mask_key)};
  out.append(mask, 4);
  const size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out[start + i] = static_cast<char>(out[start + i] ^ mask[i & 3]);
}

std::string closePayload(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code));
  payload.append(reason.substr(0, kMaxControlPayload - 2));
  return payload;
}

void FrameParser::reset() {
  failed_ = in_payload_ = in_message_ = false;
  header_size_ = 0;
  payload_left_ = payload_read_ = 0;
  message_.clear();
  control_.clear();
}

FrameEvent FrameParser::fail(uint16_t code) {
  failed_ = true;
  FrameEvent event;
  event.kind = FrameEvent::Kind::kError;
  event.close_code = code;
  return event;
}

FrameEvent FrameParser::feed(std::string_view data, size_t& consumed) {
  consumed = 0;
  if (failed_) return fail(kCloseProtocolError);
  while (true) {
    if (!in_payload_) {
      const FrameEvent event = readHeader(data, consumed);
      if (event.kind != FrameEvent::Kind::kNeedMore || !in_payload_) return event;
    }
    takePayload(data, consumed);
    if (payload_left_ > 0) return FrameEvent{};
    in_payload_ = false;
    const FrameEvent event = finishFrame();
    if (event.kind != FrameEvent::Kind::kNeedMore) return event;
  }
}

// Reads header bytes until the header is whole; then checks it and starts the payload.
FrameEvent FrameParser::readHeader(std::string_view data, size_t& consumed) {
  while (true) {
    size_t needed = 2;
    if (header_size_ >= 2) {
      needed += extendedLengthSize(header_[1] & 0x7F) + ((header_[1] & 0x80) != 0 ? 4 : 0);
    }
    if (header_size_ >= needed && header_size_ >= 2) return startPayload();
    if (consumed >= data.size()) return FrameEvent{};
    header_[header_size_++] = static_cast<uint8_t>(data[consumed++]);
  }
}

FrameEvent FrameParser::startPayload() {
  header_size_ = 0;
  fin_ = (header_[0] & 0x80) != 0;
  const uint8_t raw_opcode = header_[0] & 0x0F;
  // No extension is ever negotiated, so the reserved bits must be clear.
  if ((header_[0] & 0x70) != 0 || !knownOpcode(raw_opcode)) return fail(kCloseProtocolError);
  opcode_ = static_cast<Opcode>(raw_opcode);
  masked_ = (header_[1] & 0x80) != 0;
  if (masked_ != (peer_ == Peer::kClient)) return fail(kCloseProtocolError);
  const uint8_t length7 = header_[1] & 0x7F;
  uint64_t length = length7;
  const size_t extended = extendedLengthSize(length7);
  if (extended > 0) {
    length = 0;
    for (size_t i = 0; i < extended; ++i) length = (length << 8) | header_[2 + i];
    // The shortest encoding is required, and the 64-bit form has its top bit clear.
    if ((extended == 2 && length < 126) || (extended == 8 && (length <= 0xFFFF || (length >> 63) != 0))) {
      return fail(kCloseProtocolError);
    }
  }
  if (masked_) std::copy_n(header_.begin() + 2 + extended, 4, mask_.begin());
  if (isControl(opcode_)) {
    if (!fin_ || length > kMaxControlPayload) return fail(kCloseProtocolError);
    control_.clear();
  } else if (opcode_ == Opcode::kContinuation) {
    if (!in_message_) return fail(kCloseProtocolError);
  } else {
    if (in_message_) return fail(kCloseProtocolError);  // a new message inside a fragmented one
    in_message_ = true;
    message_opcode_ = opcode_;
    message_.clear();
  }
  if (!isControl(opcode_) && length > max_message_ - std::min<uint64_t>(message_.size(), max_message_)) {
    return fail(kCloseTooBig);
  }
  payload_left_ = length;
  payload_read_ = 0;
  in_payload_ = true;
  return FrameEvent{};
}

void FrameParser::takePayload(std::string_view data, size_t& consumed) {
  const size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, data.size() - consumed));
  std::string& into = isControl(opcode_) ? control_ : message_;
  const size_t start = into.size();
  into.append(data.substr(consumed, take));
  if (masked_) {
    for (size_t i = 0; i < take; ++i) {
      into[start + i] = static_cast<char>(into[start + i] ^ mask_[(payload_read_ + i) & 3]);
    }
  }
  consumed += take;
  payload_left_ -= take;
  payload_read_ += take;
}

FrameEvent FrameParser::finishFrame() {
  FrameEvent event;
  switch (opcode_) {
    case Opcode::kPing:
    case Opcode::kPong:
      event.kind = opcode_ == Opcode::kPing ? FrameEvent::Kind::kPing : FrameEvent::Kind::kPong;
      event.payload = control_;
      return event;
    case Opcode::kClose:
      if (control_.size() == 1) return fail(kCloseProtocolError);
      event.kind = FrameEvent::Kind::kClose;
      if (control_.size() >= 2) {
        event.close_code = static_cast<uint16_t>((static_cast<uint8_t>(control_[0]) << 8) |
                                                 static_cast<uint8_t>(control_[1]));
        if (!validCloseCode(event.close_code)) return fail(kCloseProtocolError);
        event.payload = std::string_view(control_).substr(2);
        if (!validUtf8(event.payload)) return fail(kCloseInvalidData);
      }
      return event;
    default: break;
  }
  if (!fin_) return event;  // more fragments to come
  in_message_ = false;
  if (message_opcode_ == Opcode::kText && !validUtf8(message_)) return fail(kCloseInvalidData);
  event.kind = FrameEvent::Kind::kMessage;
  event.opcode = message_opcode_;
  event.payload = message_;
  return event;
}

bool validUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t code = 0;
    uint32_t min = 0;
    if ((byte & 0xE0) == 0xC0) {
      extra = 1, code = byte & 0x1F, min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      extra = 2, code = byte & 0x0F, min = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      extra = 3, code = byte & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace herd::engine::websocket
