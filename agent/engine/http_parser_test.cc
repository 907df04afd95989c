#include "agent/engine/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herd::engine {
namespace {

using State = ResponseParser::State;

struct Parsed {
  State state = State::kNeedMore;
  int status = 0;
  bool keep_alive = false;
  size_t consumed = 0;
  std::string body;

  bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Parsed& p) {
  return out << "{state=" << static_cast<int>(p.state) << " status=" << p.status << " keep_alive=" << p.keep_alive
             << " consumed=" << p.consumed << " body=" << p.body.size() << " bytes}";
}

struct Options {
  bool head = false;  // the request was HEAD
  bool eof = false;   // the server closes after the input
};

// Feeds `input` cut at the given offsets (ascending), like reads would deliver it.
Parsed parsePieces(std::string_view input, const std::vector<size_t>& cuts, Options options = {}) {
  ResponseParser parser;
  parser.reset(options.head);
  Parsed result;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (parser.state() != State::kNeedMore) break;
    result.consumed += parser.feed(input.substr(begin, end - begin), &result.body);
    begin = end;
  }
  if (options.eof && parser.state() == State::kNeedMore) parser.finishOnEof();
  result.state = parser.state();
  // How much of a rejected response was consumed depends on where reads ended.
  if (result.state == State::kError) result.consumed = 0;
  result.status = parser.statusCode();
  result.keep_alive = parser.keepAlive();
  return result;
}

Parsed parse(std::string_view input, Options options = {}) { return parsePieces(input, {}, options); }

// The property the connection relies on: however reads split the response,
// the outcome is the same as for the whole.
void expectSameForEverySplit(std::string_view input, Options options = {}) {
  const Parsed whole = parse(input, options);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    ASSERT_EQ(parsePieces(input, {cut}, options), whole) << "split at " << cut;
  }
  std::vector<size_t> every_byte;
  for (size_t cut = 1; cut < input.size(); ++cut) every_byte.push_back(cut);
  ASSERT_EQ(parsePieces(input, every_byte, options), whole) << "one byte at a time";
  if (input.size() <= 400) {
    for (size_t a = 1; a < input.size(); ++a) {
      for (size_t b = a; b < input.size(); b += 7) {
        ASSERT_EQ(parsePieces(input, {a, b}, options), whole) << "split at " << a << " and " << b;
      }
    }
  }
}

Parsed expectComplete(std::string_view input, int status, std::string_view body, bool keep_alive,
                      Options options = {}) {
  const Parsed parsed = parse(input, options);
  EXPECT_EQ(parsed.state, State::kComplete);
  EXPECT_EQ(parsed.status, status);
  EXPECT_EQ(parsed.body, body);
  EXPECT_EQ(parsed.keep_alive, keep_alive);
  expectSameForEverySplit(input, options);
  return parsed;
}

void expectError(std::string_view input, Options options = {}) {
  EXPECT_EQ(parse(input, options).state, State::kError) << input;
  expectSameForEverySplit(input, options);
}

// --- Framing -----------------------------------------------------------------

TEST(HttpParser, ContentLength) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(expectComplete(input, 200, "hello", true).consumed, input.size());
}

TEST(HttpParser, StopsAtTheEndOfTheResponse) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const Parsed parsed = parse(response + "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(parsed.state, State::kComplete);
  EXPECT_EQ(parsed.consumed, response.size());
  expectSameForEverySplit(response + "HTTP/1.1 200 OK\r\n");
}

TEST(HttpParser, ZeroContentLength) { expectComplete("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "", true); }

TEST(HttpParser, HeaderNamesAreCaseInsensitive) {
  expectComplete("HTTP/1.1 201 Created\r\ncontent-LENGTH:3\r\nCONNECTION: Close\r\n\r\nabc", 201, "abc", false);
  expectComplete("HTTP/1.1 200 OK\r\nTRANSFER-encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200, "abc", true);
}

TEST(HttpParser, BareLineFeedsAreAccepted) {
  expectComplete("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok", true);
  expectComplete("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n", 200, "ok", true);
}

TEST(HttpParser, MissingReasonPhrase) {
  expectComplete("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true);
  expectComplete("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", 200, "ok", true);
}

TEST(HttpParser, Chunked) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "1\r\n \r\n"
      "A\r\n0123456789\r\n"
      "0\r\n\r\n";
  EXPECT_EQ(expectComplete(input, 200, "hello 0123456789", true).consumed, input.size());
}

TEST(HttpParser, ChunkExtensionsAndTrailers) {
  expectComplete(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "6 ; quoted=\"a;b\" ; flag\r\n world\r\n"
      "0;last\r\n"
      "X-Checksum: abc\r\n"
      "Server-Timing: total;dur=1\r\n"
      "\r\n",
      200, "hello world", true);
}

TEST(HttpParser, ChunkedWithLeadingZerosAndUpperCaseHex) {
  expectComplete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000F\r\n0123456789ABCDE\r\n0\r\n\r\n", 200,
                 "0123456789ABCDE", true);
}

TEST(HttpParser, TransferEncodingWinsOverContentLengthButClosesTheConnection) {
  expectComplete("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                 200, "ok", false);
}

TEST(HttpParser, NonChunkedTransferEncodingReadsUntilClose) {
  const std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc";
  EXPECT_EQ(parse(input).state, State::kNeedMore);
  expectComplete(input, 200, "abc", false, {.eof = true});
}

TEST(HttpParser, UntilClose) {
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until EOF";
  const Parsed open = parse(input);
  EXPECT_EQ(open.state, State::kNeedMore);
  EXPECT_EQ(open.body, "all of this until EOF");
  expectComplete(input, 200, "all of this until EOF", false, {.eof = true});
  expectComplete("HTTP/1.1 200 OK\r\n\r\n", 200, "", false, {.eof = true});
}

TEST(HttpParser, EofBeforeTheEndIsNotCompletion) {
  for (const char* input : {"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"}) {
    ResponseParser parser;
    parser.feed(input, nullptr);
    EXPECT_FALSE(parser.finishOnEof()) << input;
    EXPECT_EQ(parser.state(), State::kNeedMore) << input;
  }
}

TEST(HttpParser, HeadHasNoBody) {
  expectComplete("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 200, "", true, {.head = true});
  expectComplete("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, "", true, {.head = true});
  // Neither length nor chunked: for HEAD that still means no body, and keep-alive.
  expectComplete("HTTP/1.1 200 OK\r\n\r\n", 200, "", true, {.head = true});
}

TEST(HttpParser, NoContentAndNotModifiedHaveNoBody) {
  expectComplete("HTTP/1.1 204 No Content\r\n\r\n", 204, "", true);
  expectComplete("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n", 304, "", true);
  const std::string two = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
  EXPECT_EQ(parse(two).consumed, std::string("HTTP/1.1 204 No Content\r\n\r\n").size());
}

TEST(HttpParser, InterimResponsesAreSkipped) {
  const std::string input =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(expectComplete(input, 200, "ok", true).consumed, input.size());
  // Fields of an interim response do not leak into the final one.
  expectComplete("HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200,
                 "", true);
}

TEST(HttpParser, StatusIsUnknownUntilTheFinalStatusLine) {
  ResponseParser parser;
  parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2", nullptr);
  EXPECT_EQ(parser.statusCode(), 0);
}

TEST(HttpParser, Http10ClosesByDefault) {
  expectComplete("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false);
  expectComplete("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true);
  expectComplete("HTTP/1.0 200 OK\r\n\r\nuntil close", 200, "until close", false, {.eof = true});
}

TEST(HttpParser, ConnectionTokens) {
  expectComplete("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, "", false);
  expectComplete("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", 200, "", false);
  expectComplete("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 200, "", true);
}

TEST(HttpParser, IdenticalContentLengthsAreOneLength) {
  expectComplete("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", 200, "ok", true);
  expectComplete("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 200, "ok", true);
}

TEST(HttpParser, ParserIsReusableAfterReset) {
  ResponseParser parser;
  std::string body;
  parser.feed("HTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nbad", &body);
  EXPECT_EQ(parser.state(), State::kComplete);
  parser.reset(false);
  body.clear();
  parser.feed("HTTP/1.1 200 OK\r\nContent-Len", &body);
  parser.feed("gth: 2\r\n\r\nok", &body);
  EXPECT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.statusCode(), 200);
  EXPECT_EQ(body, "ok");
}

TEST(HttpParser, BodyIsNotCopiedWithoutASink) {
  ResponseParser parser;
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
  EXPECT_EQ(parser.feed(input, nullptr), input.size());
  EXPECT_EQ(parser.state(), State::kComplete);
}

TEST(HttpParser, LargeBodyInManyReads) {
  const std::string body(300000, 'x');
  std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + body;
  std::vector<size_t> cuts;
  for (size_t cut = 1000; cut < input.size(); cut += 65536) cuts.push_back(cut);
  const Parsed parsed = parsePieces(input, cuts);
  EXPECT_EQ(parsed.state, State::kComplete);
  EXPECT_EQ(parsed.body.size(), body.size());
  EXPECT_EQ(parsed.consumed, input.size());
}

// --- Malformed input ---------------------------------------------------------

TEST(HttpParser, GarbageIsAProtocolError) {
  expectError("garbage\r\n\r\n");
  expectError("<html>hello</html>\n");
  expectError("HTTP/2 200\r\n\r\n");
  expectError("HTTP/1.1 20 OK\r\n\r\n");
  expectError("HTTP/1.1 2000 OK\r\n\r\n");
  expectError("HTTP/1.1 099 Low\r\n\r\n");
  expectError("HTTP/1.1 600 High\r\n\r\n");
  expectError("HTTP/1.1 2x0 OK\r\n\r\n");
  expectError("http/1.1 200 OK\r\n\r\n");
  expectError("\r\nHTTP/1.1 200 OK\r\n\r\n");
  expectError(std::string("HTTP/1.1 200 OK\r\n\0\0\0\r\n\r\n", 24));
}

TEST(HttpParser, MalformedHeaderFieldsAreProtocolErrors) {
  expectError("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello");
  expectError("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n");
}

TEST(HttpParser, InvalidContentLengthIsAProtocolError) {
  expectError("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n");
}

TEST(HttpParser, ConflictingContentLengthsAreAProtocolError) {
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!");
  expectError("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello");
}

TEST(HttpParser, BadChunkSizesAreProtocolErrors) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  expectError(head + "zz\r\n");
  expectError(head + "\r\n");
  expectError(head + "-1\r\n");
  expectError(head + "5 x\r\nhello\r\n0\r\n\r\n");
  expectError(head + "ffffffffffffffff\r\n");
  expectError(head + "1000000000000000\r\n");  // 16 hex digits: beyond any sane chunk
  expectError(head + "5\r\nhelloX\r\n0\r\n\r\n");
  expectError(head + "5\r\nhello\r\n0\r\nno colon\r\n\r\n");
  expectError(head + "1;" + std::string(ResponseParser::kMaxChunkLineBytes, 'e') + "\r\nx\r\n0\r\n\r\n");
}

TEST(HttpParser, UnexpectedSwitchingProtocolsIsAProtocolError) {
  expectError("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
}

TEST(HttpParser, HeadersUpToTheLimitAreAccepted) {
  std::string input = "HTTP/1.1 200 OK\r\n";
  const std::string field = "X-Padding: " + std::string(1000, 'p') + "\r\n";
  while (input.size() + field.size() + 40 < ResponseParser::kMaxHeaderBytes) input += field;
  input += "Content-Length: 2\r\n\r\nok";
  const Parsed parsed = parsePieces(input, {1, 5000, 30000, input.size() - 3});
  EXPECT_EQ(parsed.state, State::kComplete);
  EXPECT_EQ(parsed.body, "ok");
}

TEST(HttpParser, HugeHeadersAreAProtocolError) {
  std::string input = "HTTP/1.1 200 OK\r\n";
  const std::string field = "X-Padding: " + std::string(1000, 'p') + "\r\n";
  while (input.size() < ResponseParser::kMaxHeaderBytes + 1000) input += field;
  input += "Content-Length: 2\r\n\r\nok";
  EXPECT_EQ(parse(input).state, State::kError);
  for (size_t cut : {size_t{1}, size_t{777}, size_t{40000}, ResponseParser::kMaxHeaderBytes - 1,
                     ResponseParser::kMaxHeaderBytes, ResponseParser::kMaxHeaderBytes + 1}) {
    EXPECT_EQ(parsePieces(input, {cut}).state, State::kError) << cut;
  }
}

TEST(HttpParser, AnEndlessHeaderLineFailsWithoutBufferingIt) {
  ResponseParser parser;
  parser.feed("HTTP/1.1 200 OK\r\nX-Endless: ", nullptr);
  const std::string block(4096, 'a');
  size_t fed = 0;
  while (parser.state() == State::kNeedMore && fed < 10 * ResponseParser::kMaxHeaderBytes) {
    parser.feed(block, nullptr);
    fed += block.size();
  }
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_LE(fed, ResponseParser::kMaxHeaderBytes + block.size());
}

TEST(HttpParser, HugeTrailersAreAProtocolError) {
  std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  while (input.size() < 2 * ResponseParser::kMaxHeaderBytes) input += "X-T: " + std::string(500, 't') + "\r\n";
  input += "\r\n";
  EXPECT_EQ(parse(input).state, State::kError);
}

TEST(HttpParser, ErrorsAreSticky) {
  ResponseParser parser;
  parser.feed("garbage\r\n", nullptr);
  ASSERT_EQ(parser.state(), State::kError);
  EXPECT_STRNE(parser.error(), "");
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\n\r\n", nullptr), 0u);
  EXPECT_EQ(parser.state(), State::kError);
  EXPECT_FALSE(parser.keepAlive());
}

TEST(HttpParser, CapturedBodiesAreBounded) {
  ResponseParser parser;
  std::string body;
  parser.feed("HTTP/1.1 200 OK\r\n\r\n", &body);
  const std::string block(1 << 20, 'b');
  for (size_t fed = 0; fed < ResponseParser::kMaxCapturedBodyBytes + 3 * block.size(); fed += block.size()) {
    parser.feed(block, &body);
  }
  EXPECT_EQ(body.size(), ResponseParser::kMaxCapturedBodyBytes);
}

}  // namespace
}  // namespace herd::engine
