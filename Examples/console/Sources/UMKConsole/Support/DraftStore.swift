import UserManagementKit

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What step 1 of "Create User Account" or "Edit User Account" collected, kept between the
/// two steps.
struct UserDraft: Sendable {
  /// The user being edited, or `nil` when creating one.
  var editing: UserID?
  /// The version step 1 showed, so an edit made meanwhile by someone else is refused.
  var version: UInt64?
  var username: String
  var firstName: String
  var lastName: String
  /// `nil` keeps the current password (edit only).
  var password: NewSecret?
  /// `nil` leaves the status as it is (one's own).
  var status: UserStatus?
}

/// Drafts between the two steps of a user form, in this process's memory only.
///
/// A typed password must survive from step 1 to step 2 without ever being written into a page
/// or into the session store (which a host may share or persist), so it waits here, bound to
/// the user who typed it, for at most ten minutes, and is removed when step 2 uses it. Expired
/// drafts are swept whenever a draft is kept or read, so an abandoned form's password does not
/// stay in memory beyond the next use of any form.
actor DraftStore {
  private struct Entry {
    let owner: UserID
    let expires: Date
    let draft: UserDraft
  }

  private var entries: [String: Entry] = [:]
  private static let lifetime: TimeInterval = 600
  private static let maximumEntries = 10_000

  /// How many drafts are kept, expired or not (for tests).
  var count: Int { entries.count }

  /// Keeps a draft and returns the token that step 2's form carries.
  func put(_ draft: UserDraft, owner: UserID, now: Date = Date()) -> String {
    sweep(now: now)
    if entries.count >= Self.maximumEntries,
      let oldest = entries.min(by: { $0.value.expires < $1.value.expires })
    {
      entries[oldest.key] = nil
    }
    let token = Tokens.make()
    entries[token] = Entry(
      owner: owner, expires: now.addingTimeInterval(Self.lifetime), draft: draft)
    return token
  }

  /// The draft for a token, if it exists, has not expired and belongs to `owner`.
  func get(_ token: String, owner: UserID, now: Date = Date()) -> UserDraft? {
    sweep(now: now)
    guard let entry = entries[token], entry.owner == owner else { return nil }
    return entry.draft
  }

  /// Forgets every expired draft.
  private func sweep(now: Date) {
    if entries.contains(where: { $0.value.expires <= now }) {
      entries = entries.filter { $0.value.expires > now }
    }
  }

  /// Forgets a draft.
  func remove(_ token: String) {
    entries[token] = nil
  }
}
