import Awesomegrad

/// Stops the program for a programmer error in an argument (a token id outside the vocabulary, a
/// cache too small), naming the function, the problem and the caller's file and line, in release
/// builds too, as the core library's own check does. Data from files never reaches this: bad files
/// are thrown errors.
func modelArgumentFailure(_ function: String, _ problem: String, file: StaticString, line: UInt) -> Never {
  fatalError("\(function): \(problem) (at \(callerLocation(file, line)))", file: file, line: line)
}
