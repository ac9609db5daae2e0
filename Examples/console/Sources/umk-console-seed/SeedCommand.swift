import ArgumentParser
import UserManagementKit

/// `umk-console-seed`: fills an empty file store with many users for the console's benchmark.
@main
struct SeedCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "umk-console-seed",
    abstract: "Fill an empty store with an administrator and generated users (for Scripts/bench).",
    discussion: """
      The administrator's password is read from standard input. The other users are imported
      without a password (they cannot sign in): every 7th is inactive, every 100th an
      administrator, every 3rd General User holds the policy "Reports viewer", and last names
      repeat from a short list so that searches match many users.
      """)

  @Option(help: "The store directory (must be empty or missing).")
  var store: String

  @Option(help: "How many users in all, the administrator included.")
  var users = 100_000

  @Option(help: "The administrator's username.")
  var adminUsername = "bench-admin@example.com"

  @Flag(help: "Only measure one Argon2id verification with the default hasher, and exit.")
  var measureHash = false

  func run() async throws {
    if measureHash {
      let configuration = UserDirectory.Configuration()
      let hasher = configuration.passwordHasher
      let hash = try hasher.hash(Secret("measure-the-hash-2026"))
      let clock = ContinuousClock()
      let rounds = 50
      let elapsed = try clock.measure {
        for _ in 0..<rounds {
          _ = try hasher.verify(Secret("measure-the-hash-2026"), against: hash)
        }
      }
      let milliseconds =
        Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
      let each = milliseconds / Double(rounds)
      print(
        "Argon2id verification: \((each * 10).rounded() / 10) ms; maximumConcurrentHashes = "
          + "\(configuration.maximumConcurrentHashes); bound = \(Int((Double(configuration.maximumConcurrentHashes) * 1000 / each).rounded())) sign-ins/s"
      )
      return
    }
    guard let password = readLine(strippingNewline: true), !password.isEmpty else {
      throw ValidationError("Standard input had no password for the administrator.")
    }
    let directory = UserDirectory(store: try FileDirectoryStore(directory: store))
    let admin = try await directory.bootstrap(
      NewUser(
        username: adminUsername, firstName: "Bench", lastName: "Admin",
        password: .typed(Secret(password)), role: .admin))
    let principal = Principal.user(admin.user.id)
    try await directory.importPolicies(
      [
        PolicyDocument(
          name: "Reports viewer", description: "May view every report.",
          permissions: [Permission(resourceType: "report", allowed: [.view], resourceIds: [.any])])
      ], by: principal)
    let lastNames = [
      "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
      "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
      "Moore", "Jackson", "Martin",
    ]
    let firstNames = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Katherine", "Ken"]
    var portable: [PortableUser] = []
    portable.reserveCapacity(users)
    for index in 1..<max(1, users) {
      let role: Role = index % 100 == 0 ? .admin : .generalUser
      portable.append(
        PortableUser(
          username: "user\(index)@example.com", firstName: firstNames[index % firstNames.count],
          lastName: lastNames[index % lastNames.count],
          status: index % 7 == 0 ? .inactive : .active,
          role: role, policies: role == .generalUser && index % 3 == 0 ? ["Reports viewer"] : []))
    }
    let result = try await directory.importUsers(portable, by: principal)
    guard result.committed else {
      throw ValidationError("The import failed: \(result.issues.prefix(3).map(\.description))")
    }
    print("Seeded \(result.users.count + 1) users into \(store).")
  }
}
