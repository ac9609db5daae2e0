/// `demo --json`: `{"steps":[{"title","outcomes":[…]}],"auditedChanges","refusals","complete"}`.
struct DemoOutput: Encodable {
  /// The steps, in order.
  let steps: [Step]
  /// How many audited changes the scenario made.
  let auditedChanges: Int
  /// How many refusals it showed.
  let refusals: Int
  /// Always `true`: a demo that fails prints an error instead.
  let complete: Bool

  /// `{"title","outcomes"}`.
  struct Step: Encodable {
    /// The title.
    let title: String
    /// What happened.
    var outcomes: [Outcome]
  }

  /// `{"ok","text","code"?,"message"?}`: `code` and `message` for a refusal.
  struct Outcome: Encodable {
    /// Whether it worked (`false` for a refusal).
    let ok: Bool
    /// What was done or tried.
    let text: String
    /// The refusal's code.
    var code: String?
    /// The refusal's message.
    var message: String?
  }
}
