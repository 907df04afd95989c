#include "agent/engine/websocket_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herd::engine::websocket {
namespace {

using Kind = FrameEvent::Kind;

struct Seen {
  Kind kind;
  Opcode opcode;
  uint16_t close_code;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen) {
  return out << "{kind=" << static_cast<int>(seen.kind) << " code=" << seen.close_code << " payload=" << seen.payload
             << "}";
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int value : values) out.push_back(static_cast<char>(value));
  return out;
}

// Feeds `input` `step` bytes at a time and lists every event (an error ends it).
std::vector<Seen> parse(std::string_view input, size_t step, FrameParser::Peer peer = FrameParser::Peer::kServer,
                        size_t max_message = 1 << 20) {
  FrameParser parser(max_message, peer);
  std::vector<Seen> seen;
  for (size_t at = 0; at < input.size(); at += step) {
    std::string_view piece = input.substr(at, step);
    while (true) {
      size_t consumed = 0;
      const FrameEvent event = parser.feed(piece, consumed);
      piece.remove_prefix(consumed);
      if (event.kind == Kind::kNeedMore) break;
      seen.push_back(Seen{event.kind, event.opcode, event.close_code, std::string(event.payload)});
      if (event.kind == Kind::kError) return seen;
    }
  }
  return seen;
}

// Every split of the input gives the same events as the whole.
std::vector<Seen> parseEverySplit(std::string_view input, FrameParser::Peer peer = FrameParser::Peer::kServer,
                                  size_t max_message = 1 << 20) {
  const auto whole = parse(input, input.size() + 1, peer, max_message);
  for (size_t step = 1; step <= input.size(); ++step) {
    EXPECT_EQ(parse(input, step, peer, max_message), whole) << "step " << step;
  }
  return whole;
}

const Seen kHello{Kind::kMessage, Opcode::kText, 0, "Hello"};

// RFC 6455 1.3: the handshake's worked example.
TEST(WebSocketHandshake, KeyAndAcceptMatchTheRfcExample) {
  std::array<uint8_t, 16> nonce{};
  const std::string_view sample = "the sample nonce";
  std::copy(sample.begin(), sample.end(), nonce.begin());
  EXPECT_EQ(handshakeKey(nonce), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(acceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, RandomNoncesDiffer) { EXPECT_NE(randomNonce(), randomNonce()); }

// RFC 6455 5.7, "A single-frame unmasked text message".
TEST(WebSocketFrameParser, RfcUnmaskedText) {
  EXPECT_EQ(parseEverySplit(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})), std::vector<Seen>{kHello});
}

// RFC 6455 5.7, "A single-frame masked text message" (client to server).
TEST(WebSocketFrameParser, RfcMaskedText) {
  const auto frame = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  EXPECT_EQ(parseEverySplit(frame, FrameParser::Peer::kClient), std::vector<Seen>{kHello});
  // A server must never mask: the client fails the connection.
  EXPECT_EQ(parse(frame, frame.size()).back().kind, Kind::kError);
}

// RFC 6455 5.7, "A fragmented unmasked text message".
TEST(WebSocketFrameParser, RfcFragmentedText) {
  EXPECT_EQ(parseEverySplit(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f})), std::vector<Seen>{kHello});
}

// RFC 6455 5.7, unmasked Ping and masked Pong.
TEST(WebSocketFrameParser, RfcPingAndPong) {
  EXPECT_EQ(parseEverySplit(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})),
            (std::vector<Seen>{{Kind::kPing, Opcode::kText, 0, "Hello"}}));
  EXPECT_EQ(parseEverySplit(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                            FrameParser::Peer::kClient),
            (std::vector<Seen>{{Kind::kPong, Opcode::kText, 0, "Hello"}}));
}

// RFC 6455 5.7, 256 bytes and 64 KiB binary messages (16- and 64-bit lengths).
TEST(WebSocketFrameParser, RfcExtendedLengths) {
  const std::string small(256, '\x5a');
  const auto seen = parse(bytes({0x82, 0x7E, 0x01, 0x00}) + small, 7);
  EXPECT_EQ(seen, (std::vector<Seen>{{Kind::kMessage, Opcode::kBinary, 0, small}}));
  const std::string large(65536, '\x01');
  const auto seen_large = parse(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + large, 1000);
  EXPECT_EQ(seen_large, (std::vector<Seen>{{Kind::kMessage, Opcode::kBinary, 0, large}}));
}

TEST(WebSocketFrameParser, ControlFrameBetweenFragments) {
  const auto input = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x00, 0x80, 0x02, 0x6c, 0x6f});
  EXPECT_EQ(parseEverySplit(input), (std::vector<Seen>{{Kind::kPing, Opcode::kText, 0, ""}, kHello}));
}

TEST(WebSocketFrameParser, CloseWithCodeAndReason) {
  std::string frame;
  appendFrame(frame, Opcode::kClose, closePayload(1001, "bye"), true, false, 0);
  EXPECT_EQ(parseEverySplit(frame), (std::vector<Seen>{{Kind::kClose, Opcode::kText, 1001, "bye"}}));
  EXPECT_EQ(parseEverySplit(bytes({0x88, 0x00})), (std::vector<Seen>{{Kind::kClose, Opcode::kText, 0, ""}}));
}

TEST(WebSocketFrameParser, ProtocolErrors) {
  const auto error = [](std::string_view input) {
    const auto seen = parse(input, input.size());
    return seen.empty() ? uint16_t{0} : seen.back().kind == Kind::kError ? seen.back().close_code : uint16_t{1};
  };
  EXPECT_EQ(error(bytes({0xC1, 0x00})), kCloseProtocolError);                    // RSV1 without an extension
  EXPECT_EQ(error(bytes({0x83, 0x00})), kCloseProtocolError);                    // reserved opcode
  EXPECT_EQ(error(bytes({0x80, 0x00})), kCloseProtocolError);                    // continuation with no message
  EXPECT_EQ(error(bytes({0x09, 0x00})), kCloseProtocolError);                    // fragmented ping
  EXPECT_EQ(error(bytes({0x89, 0x7E, 0x00, 0x7E})), kCloseProtocolError);        // control frame > 125
  EXPECT_EQ(error(bytes({0x01, 0x01, 0x41, 0x81, 0x00})), kCloseProtocolError);  // text inside a fragmented text
  EXPECT_EQ(error(bytes({0x82, 0x7E, 0x00, 0x05})), kCloseProtocolError);        // non-minimal 16-bit length
  EXPECT_EQ(error(bytes({0x88, 0x01, 0x03})), kCloseProtocolError);              // close payload of one byte
  EXPECT_EQ(error(bytes({0x88, 0x02, 0x03, 0xED})), kCloseProtocolError);        // close code 1005 may not be sent
  EXPECT_EQ(error(bytes({0x81, 0x02, 0xC0, 0x80})), kCloseInvalidData);          // overlong UTF-8
}

TEST(WebSocketFrameParser, MessageSizeBoundCountsEveryFragment) {
  const auto input = bytes({0x02, 0x03, 1, 2, 3, 0x80, 0x03, 4, 5, 6});
  EXPECT_EQ(parse(input, input.size(), FrameParser::Peer::kServer, 6).back().kind, Kind::kMessage);
  const auto seen = parse(input, input.size(), FrameParser::Peer::kServer, 5);
  EXPECT_EQ(seen.back(), (Seen{Kind::kError, Opcode::kText, kCloseTooBig, ""}));
}

TEST(WebSocketFrameEncoder, MaskedFramesRoundTripThroughTheServerSideParser) {
  for (const size_t size : {size_t{0}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}}) {
    const std::string payload(size, 'x');
    std::string frame;
    appendFrame(frame, Opcode::kText, payload, true, true, 0x37fa213d);
    EXPECT_EQ(parse(frame, 4096, FrameParser::Peer::kClient),
              (std::vector<Seen>{{Kind::kMessage, Opcode::kText, 0, payload}}));
  }
  std::string hello;
  appendFrame(hello, Opcode::kText, "Hello", true, true, 0x37fa213d);
  EXPECT_EQ(hello, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(Utf8, AcceptsValidAndRejectsBroken) {
  EXPECT_TRUE(validUtf8("κόσμε €𝄞"));
  EXPECT_FALSE(validUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(validUtf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(validUtf8("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace herd::engine::websocket
