import UserManagementKit
import UserManagementKitTesting

/// The directory benchmarks of issue 2 at one scale, run in a worker process of their own so
/// that the memory figure starts from a fresh heap.
///
/// One directory is populated once through the public facade (the add-user measurement), its
/// resident memory is read, and then lookups and searched pages run against it; the last
/// benchmark adds one user before each searched page, as in a directory that is in use.
/// Everything is single-threaded: each operation is awaited before the next starts.
struct DirectoryBenchmark {
  /// How long and how often to measure.
  struct Plan {
    /// The number of batches the population is added in (the last takes the remainder);
    /// the first is warm-up.
    var batches = 21
    /// Timed rounds of lookups.
    var lookupRounds: Int
    /// Lookups per round.
    var lookupsPerRound: Int
    /// Timed searched pages.
    var searchQueries: Int

    /// The plan for a full or `--quick` run.
    ///
    /// - Parameter quick: Whether to take fewer measurements.
    /// - Returns: The plan.
    static func make(quick: Bool) -> Plan {
      quick
        ? Plan(lookupRounds: 5, lookupsPerRound: 100_000, searchQueries: 21)
        : Plan(lookupRounds: 9, lookupsPerRound: 250_000, searchQueries: 51)
    }
  }

  /// The scale.
  let scale: Scale
  /// Which benchmarks to report.
  let selected: Set<BenchmarkKind>
  /// The measurement plan.
  let plan: Plan

  /// Runs the benchmarks and writes one JSON line per selected benchmark to standard output.
  ///
  /// - Returns: The results, in the order written.
  /// - Throws: ``UserManagementError`` if the library refuses an operation the benchmark
  ///   relies on.
  func run() async throws(UserManagementError) -> [BenchmarkResult] {
    let dataset = Dataset(count: scale.userCount)
    let tag = "[\(scale.label)]"
    var results: [BenchmarkResult] = []
    func report(_ kind: BenchmarkKind, _ ours: Double, pairs: Int) {
      guard selected.contains(kind) else { return }
      let result = BenchmarkResult(name: kind.name(at: scale), kind: kind, ours: ours, pairs: pairs)
      Output.result(result.jsonLine)
      results.append(result)
    }

    // A fast test hasher (one SHA-256) so that hashing is not what is measured.
    let directory = UserDirectory(
      store: InMemoryDirectoryStore(),
      configuration: .init(passwordHasher: InsecureFastPasswordHasher()))
    let password = Secret("benchmark passphrase, long enough")
    let bootstrapped = try await directory.bootstrap(
      NewUser(
        username: "root-admin@example.org", firstName: "Root", lastName: "Administrator",
        password: .typed(password)))
    let admin = Principal.user(bootstrapped.user.id)
    var policies: [PolicyID] = []
    for name in Dataset.policyNames {
      let policy = try await directory.createPolicy(
        PolicyDocument(
          name: name,
          permissions: [
            Permission(
              resourceType: name.lowercased().replacing(" ", with: "-"),
              allowed: [.view, .edit], resourceIds: [.any])
          ]),
        by: admin)
      policies.append(policy.id)
    }

    // Populate: the add-user measurement, and the memory measurement around it.
    let before = Measure.residentBytes()
    let batchSize = scale.userCount / plan.batches
    var batchRates: [Double] = []
    var index = 0
    for batch in 0..<plan.batches {
      let end = batch == plan.batches - 1 ? scale.userCount : index + batchSize
      let count = end - index
      // The requests are made before timing, so only the library's work is measured.
      let requests = (index..<end).map {
        dataset.newUser(at: $0, policies: policies, password: password)
      }
      let start = Measure.clock.now
      for request in requests {
        try await directory.addUser(request, by: admin)
      }
      index = end
      let rate = Double(count) / Measure.seconds(Measure.clock.now - start)
      if batch > 0 { batchRates.append(rate) }
      Output.log(
        "\(tag) added \(Output.grouped(Double(index))) users; this batch "
          + "\(Output.grouped(rate)) users/s\(batch == 0 ? " (warm-up)" : "")")
    }
    let after = Measure.residentBytes()
    let perUser = Double(after.current - before.current) / Double(scale.userCount)
    Output.log(
      "\(tag) resident \(Output.grouped(Double(before.current))) -> "
        + "\(Output.grouped(Double(after.current))) bytes (peak "
        + "\(Output.grouped(Double(after.peak)))): \(Output.grouped(perUser)) bytes/user, "
        + "including one audit event per user")
    report(.addUser, Measure.median(batchRates), pairs: batchRates.count)
    report(.memoryPerUser, perUser, pairs: 1)

    if selected.contains(.lookupByUsername) {
      let rate = try await lookups(in: directory, dataset: dataset, by: admin, tag: tag)
      report(.lookupByUsername, rate.median, pairs: rate.rounds)
    }
    if selected.contains(.searchPage) {
      let time = try await searches(
        in: directory, dataset: dataset, by: admin, addingBefore: nil, tag: tag)
      report(.searchPage, time.median, pairs: time.queries)
    }
    if selected.contains(.searchPageAfterAdd) {
      let time = try await searches(
        in: directory, dataset: dataset, by: admin, addingBefore: (policies, password), tag: tag)
      report(.searchPageAfterAdd, time.median, pairs: time.queries)
    }
    return results
  }

  /// Looks up random existing users by username, round after round.
  private func lookups(
    in directory: UserDirectory, dataset: Dataset, by admin: Principal, tag: String
  ) async throws(UserManagementError) -> (median: Double, rounds: Int) {
    // 4,096 random usernames, made before timing so formatting is not measured.
    var state: UInt64 = 7
    var usernames: [String] = []
    for _ in 0..<4_096 {
      state = SeededRandomNumberGenerator.mix(state)
      usernames.append(Dataset.username(Int(state % UInt64(dataset.count))))
    }
    var checksum: UInt64 = 0
    var rates: [Double] = []
    for round in 0...plan.lookupRounds {
      // Round 0 is warm-up, a tenth as long.
      let count = round == 0 ? plan.lookupsPerRound / 10 : plan.lookupsPerRound
      let start = Measure.clock.now
      for lookup in 0..<count {
        let user = try await directory.user(named: usernames[lookup & 4_095], by: admin)
        checksum &+= user.version
      }
      let rate = Double(count) / Measure.seconds(Measure.clock.now - start)
      if round > 0 { rates.append(rate) }
      Output.log(
        "\(tag) lookup round \(round): \(Output.grouped(rate)) lookups/s"
          + (round == 0 ? " (warm-up)" : ""))
    }
    if checksum == 0 { Output.log("\(tag) (checksum \(checksum))") }
    return (Measure.median(rates), rates.count)
  }

  /// Asks for the first page of 50 active users matching a search term, one term per query.
  ///
  /// With `addingBefore`, one user (at a random place in username order) is added, untimed,
  /// before each query, as in a directory that is in use.
  private func searches(
    in directory: UserDirectory, dataset: Dataset, by admin: Principal,
    addingBefore: (policies: [PolicyID], password: Secret)?, tag: String
  ) async throws(UserManagementError) -> (median: Double, queries: Int) {
    let label = addingBefore == nil ? "searched page" : "searched page after an add"
    let terms = Dataset.searchTerms
    func query(_ term: String) -> UserQuery {
      UserQuery(filter: UserFilter(status: .active, search: term), limit: 50)
    }
    // Warm-up: the first listing also sorts the username index, which is one-time work.
    for term in terms.suffix(5) {
      _ = try await directory.users(query(term), by: admin)
    }
    if addingBefore == nil, let term = terms.first {
      let matching = try await directory.userCount(
        matching: UserFilter(status: .active, search: term), by: admin)
      Output.log(
        "\(tag) search \"\(term)\" matches \(Output.grouped(Double(matching))) active users "
          + "(\(Double(matching * 10_000 / scale.userCount) / 100)%)")
    }
    var times: [Double] = []
    for number in 0..<plan.searchQueries {
      let term = terms[number % terms.count]
      if let addingBefore {
        var request = dataset.newUser(
          at: number, policies: addingBefore.policies, password: addingBefore.password)
        request.username = request.username.replacing("@", with: ".late\(number)@")
        try await directory.addUser(request, by: admin)
      }
      let start = Measure.clock.now
      let page = try await directory.users(query(term), by: admin)
      times.append(Measure.seconds(Measure.clock.now - start))
      if page.users.count != 50 || page.nextCursor == nil {
        Output.log("\(tag) warning: the page for \"\(term)\" has \(page.users.count) users")
      }
    }
    let median = Measure.median(times)
    Output.log(
      "\(tag) \(label): median \(Output.grouped(median * 1e6)) µs over \(times.count) "
        + "queries (min \(Output.grouped((times.min() ?? 0) * 1e6)) µs, max "
        + "\(Output.grouped((times.max() ?? 0) * 1e6)) µs)")
    return (median, times.count)
  }
}
