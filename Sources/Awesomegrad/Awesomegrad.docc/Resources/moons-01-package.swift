// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "Moons",
  dependencies: [
    // Awesomegrad checked out next to this package.
    .package(path: "../Awesomegrad")
  ],
  targets: [
    .executableTarget(
      name: "Moons",
      dependencies: [
        .product(name: "Awesomegrad", package: "Awesomegrad"),
        // The moons data set; the core library has no data sets.
        .product(name: "AwesomegradDatasets", package: "Awesomegrad"),
      ])
  ]
)
