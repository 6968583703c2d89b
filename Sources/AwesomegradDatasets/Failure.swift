import Awesomegrad

/// Stops the program for a programmer error in an argument (a batch index outside the data set, a
/// negative noise), naming the function, the problem and the caller's file and line, in release
/// builds too, as the core library's own check does. Bad files are thrown errors, never this.
func datasetArgumentFailure(_ function: String, _ problem: String, file: StaticString, line: UInt) -> Never {
  fatalError("\(function): \(problem) (at \(callerLocation(file, line)))", file: file, line: line)
}
