import APINode
import Benchmark
import Foundation
import ModelRuntime

/// Evaluator time per model family (one row, and 1,000 rows per call), and one whole `predict`
/// query through the public API without HTTP. Inputs come from hack/bench/evaluator.sh:
/// PARITY_CASES (the parity cases' folder) and SERVING_PACKAGE (the serving benchmark's package,
/// with its request bodies in `../bodies`).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 100_000)
    let environment = ProcessInfo.processInfo.environment
    if let folder = environment["PARITY_CASES"].map(URL.init(fileURLWithPath:)) {
        let families = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
        for family in families {
            guard let model = try? CompiledModel(onnx: Data(contentsOf: folder.appendingPathComponent(family + ".onnx"))),
                let batch = try? ParityFeeds.load(folder.appendingPathComponent(family + ".json"), rows: 1000),
                let single = try? ParityFeeds.load(folder.appendingPathComponent(family + ".json"), rows: 1)
            else { fatalError("cannot load the parity case \(family)") }
            Benchmark("evaluate \(family) 1 row") { benchmark in
                for _ in benchmark.scaledIterations { blackHole(try model.evaluate(single)) }
            }
            Benchmark("evaluate \(family) 1000 rows") { benchmark in
                for _ in benchmark.scaledIterations { blackHole(try model.evaluate(batch)) }
            }
        }
    }
    if let folder = environment["SERVING_PACKAGE"].map(URL.init(fileURLWithPath:)) {
        guard let package = try? PackageValidator.validate(folder: folder) else { fatalError("cannot load \(folder.path)") }
        let table = ServingTable(services: [
            ServingTable.Service(id: package.manifest.service, enabled: true, generations: [package.manifest.version: package],
                                 mapping: .single(package.manifest.version))
        ])
        // Each model alone on the serving benchmark's 1,000-row batch, then the whole query of that
        // batch and of one row.
        let batchFile = folder.deletingLastPathComponent().appendingPathComponent("bodies/batch.json")
        guard let batchData = try? Data(contentsOf: batchFile),
            let items = (try? JSONSerialization.jsonObject(with: batchData) as? [String: Any])?["items"] as? [[String: [String: Any]]]
        else { fatalError("cannot read \(batchFile.path)") }
        let batchBody = Array(batchData)
        let records = FeatureRecords(items.map { item in
            item["features", default: [:]].mapValues { ($0 as? String).map(FeatureValue.string) ?? .number(($0 as! NSNumber).doubleValue) }
        })
        let singleBody = Array(#"{"features":{"f0":0.1,"f1":-1.2,"f2":0.3,"f3":1.4,"f4":-0.5,"f5":0.6,"f6":0.7,"f7":-0.8,"f8":0.9,"f9":1.0,"plan":"pro","region":"north"}}"#.utf8)
        for (endpoint, model) in package.models.sorted(by: { $0.key < $1.key }) {
            guard let feeds = try? model.features.feeds(for: records) else { fatalError("cannot map the batch for \(endpoint)") }
            Benchmark("evaluate serving \(endpoint) 1000 rows") { benchmark in
                for _ in benchmark.scaledIterations { blackHole(try model.model.evaluate(feeds: feeds)) }
            }
            let queries = [("predict-multi query \(endpoint) 1000 rows", "predict-multi", batchBody), ("predict query \(endpoint)", "predict", singleBody)]
            for (name, verb, body) in queries {
                Benchmark("\(name) (parse, score, answer)") { benchmark async in
                    var generator = SystemRandomNumberGenerator()
                    for _ in benchmark.scaledIterations {
                        let answer = await PublicAPI().handle(
                            table, service: package.manifest.service, endpoint: endpoint, verb: verb, body: body, query: [:], using: &generator)
                        precondition(answer.status == 200, "\(answer.body)")
                        blackHole(answer.bytes)
                    }
                }
            }
        }
    }
}

/// The feeds of a parity case (`make_parity_cases.py`): one [rows, columns] tensor per input.
enum ParityFeeds {
    static func load(_ file: URL, rows count: Int) throws -> [String: Tensor] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        let inputs = json["inputs"] as! [[String: Any]]
        let rows = Array((json["rows"] as! [[Any]]).prefix(count))
        var feeds: [String: Tensor] = [:]
        var column = 0
        for input in inputs {
            let name = input["name"] as! String
            let width = input["columns"] as! Int
            let range = column..<(column + width)
            if input["type"] as! String == "string" {
                feeds[name] = Tensor(.string(rows.flatMap { row in range.map { row[$0] as! String } }), shape: [rows.count, width])
            } else {
                feeds[name] = Tensor(.float(rows.flatMap { row in range.map { (row[$0] as? NSNumber)?.floatValue ?? .nan } }), shape: [rows.count, width])
            }
            column += width
        }
        return feeds
    }
}
