import UserManagementKit

/// A policy in `--json` output: `{"id","name","description","permissions","version"}`.
struct PolicyOutput: Encodable {
  /// The policy's id.
  let id: String
  /// The name.
  let name: String
  /// The description.
  let description: String
  /// The permissions, in order.
  let permissions: [PermissionOutput]
  /// The record's version.
  let version: Int

  /// The output form of a policy.
  ///
  /// - Parameter policy: The policy.
  init(_ policy: Policy) {
    id = policy.id.description
    name = policy.name
    description = policy.description
    permissions = policy.permissions.map(PermissionOutput.init)
    version = Int(clamping: policy.version)
  }
}

/// A permission: `{"resourceType","allowed":[…],"resourceIds":[…]}`.
struct PermissionOutput: Encodable {
  /// The resource type.
  let resourceType: String
  /// The allowed actions (`view`, `edit`, `delete`, `*`, …).
  let allowed: [String]
  /// The resource ids (`*`, `<id>`, `parent:<id>`).
  let resourceIds: [String]

  /// The output form of a permission.
  ///
  /// - Parameter permission: The permission.
  init(_ permission: Permission) {
    resourceType = permission.resourceType
    allowed = permission.allowed.map(\.rawValue)
    resourceIds = permission.resourceIds.map(\.description)
  }
}

/// `{"policies":[…]}`, for `policy list` and `policy import`.
struct PolicyListOutput: Encodable {
  /// The policies.
  let policies: [PolicyOutput]
}

/// `{"policy":…}`, for `policy show`.
struct PolicyShowOutput: Encodable {
  /// The policy.
  let policy: PolicyOutput
}

/// `{"removed":{"id","name"}}`, for `policy remove`.
struct PolicyRemovedOutput: Encodable {
  /// The removed policy.
  let removed: Reference

  /// A policy's id and name.
  struct Reference: Encodable {
    /// The id.
    let id: String
    /// The name.
    let name: String
  }
}

/// `authorize`'s answer: `{"allowed","reason","explanation","policy"?:{"name","permission"}}`.
struct AuthorizationOutput: Encodable {
  /// Whether the action is allowed.
  let allowed: Bool
  /// `administrator`, `owner`, `policy`, `inactive_user`, `unknown_user` or `default_deny`.
  let reason: String
  /// The rule that decided, in words.
  let explanation: String
  /// The policy that allowed it, when one did.
  let policy: PolicyReference?

  /// The policy and permission (from 1) that decided.
  struct PolicyReference: Encodable {
    /// The policy's name.
    let name: String
    /// The permission's number, from 1.
    let permission: Int
  }

  /// The output form of a decision.
  ///
  /// - Parameter decision: The decision.
  init(_ decision: AuthorizationDecision) {
    allowed = decision.isAllowed
    explanation = decision.description
    reason = decision.reason.code
    if case .policy(_, let name, let index) = decision.reason {
      policy = PolicyReference(name: name, permission: index + 1)
    } else {
      policy = nil
    }
  }
}
