import Dispatch

/// A task executor that runs every job on one serial Dispatch queue, in the order enqueued.
///
/// A task that prefers it (`withTaskExecutorPreference`) runs its nonisolated code on the
/// queue's thread instead of the Swift concurrency pool, interleaved with the queue's other
/// work: the file store hands it out as ``FileDirectoryStore/writerExecutor``, so that a task
/// committing in a loop can write on the thread that writes anyway. Jobs run at the queue's
/// quality of service: a task's priority does not carry over.
final class QueueExecutor: TaskExecutor {
  /// The queue every job runs on.
  let queue: DispatchQueue

  /// Creates the executor and its serial queue.
  ///
  /// - Parameter label: The queue's label.
  init(label: String) {
    queue = DispatchQueue(label: label)
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }
}
