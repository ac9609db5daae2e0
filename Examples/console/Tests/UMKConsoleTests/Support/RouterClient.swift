import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A request context of the test's own, to show that the console mounts on a router of any
/// context type.
struct TestRequestContext: RequestContext {
  struct Source: RequestContextSource {
    var logger: Logger
  }

  var coreContext: CoreRequestContextStorage

  init(source: Source) {
    coreContext = CoreRequestContextStorage(source: source)
  }
}

/// A response with its body collected.
struct CollectedResponse {
  var status: HTTPResponse.Status
  var headers: HTTPFields
  var body: String
}

/// Sends requests straight to a router's responder: no sockets, no HTTP client.
struct RouterClient {
  let responder: RouterResponder<TestRequestContext>

  init(_ router: Router<TestRequestContext>) {
    responder = router.buildResponder()
  }

  /// Collects the writes of a response body.
  private final class Collector: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
      var buffer = buffer
      self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
  }

  func execute(
    _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String = ""
  ) async throws -> CollectedResponse {
    let head = HTTPRequest(
      method: method, scheme: "http", authority: "localhost", path: path, headerFields: headers)
    let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body)))
    let context = TestRequestContext(source: .init(logger: Logger(label: "RouterClient")))
    let response = try await responder.respond(to: request, context: context)
    let collector = Collector()
    try await response.body.write(collector)
    return CollectedResponse(
      status: response.status, headers: response.headers, body: String(buffer: collector.buffer))
  }
}
