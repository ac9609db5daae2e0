import Testing

extension Tag {
  /// Tests that race many tasks; CI runs them again under ThreadSanitizer.
  @Tag static var concurrency: Self
  /// Tests that start child processes (the `UMKStoreTorture` executable) on one store.
  @Tag static var multiProcess: Self
  /// The kill -9 loop: slow by design, sized by `UMK_CRASH_TRIALS`.
  @Tag static var crashLoop: Self
}
