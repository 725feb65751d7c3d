import DeployerModel
import ModelRuntime

/// A native model's answer, written straight from the scores to JSON (no value per record):
/// `{"result": …}` for one record or `{"results": […]}` for predict-multi, then `timing` and
/// `apiContext`. The query log copies the results from these bytes.
struct PredictionAnswer: Sendable {
    let bytes: [UInt8]
    /// Where the `result` object or the `results` array sits in `bytes`.
    let results: Range<Int>

    /// Writes the results of `scored`; `timing` and `apiContext` follow through `finish`.
    struct Writer {
        private var output: [UInt8] = []
        private var results: Range<Int> = 0..<0

        init(_ scored: ScoredRows, records: FeatureRecords, featureNames: [String], multi: Bool) {
            output.reserveCapacity(256 + scored.count * (scored.hasProbabilities ? 96 + 32 * scored.width : 64))
            output += multi ? Self.resultsKey : Self.resultKey
            let start = output.count
            if multi { output.append(UInt8(ascii: "[")) }
            let quotedLabels = (scored.classNames ?? []).map { name -> [UInt8] in
                var quoted: [UInt8] = []
                JSONValue.writeString(name, into: &quoted)
                return quoted
            }
            for row in 0..<scored.count {
                if row > 0 { output.append(UInt8(ascii: ",")) }
                if scored.isScored(row) {
                    write(row, of: scored, quotedLabels: quotedLabels)
                } else {
                    let missing = records.missing(featureNames, in: row)
                    let reason = missing.isEmpty ? "the model gave no score" : "missing values without imputation: " + missing.joined(separator: ", ")
                    output += Self.ignoredOpening
                    JSONValue.writeString(reason, into: &output)
                    output.append(UInt8(ascii: "}"))
                }
            }
            if multi { output.append(UInt8(ascii: "]")) }
            results = start..<output.count
        }

        private mutating func write(_ row: Int, of scored: ScoredRows, quotedLabels: [[UInt8]]) {
            output += Self.scoredOpening
            if let predicted = scored.predictedClass(row) {
                output += quotedLabels[predicted]
            } else {
                switch scored.prediction(row) {
                case .label(let label): JSONValue.writeString(label, into: &output)
                case .number(let number): Self.write(Float(number), into: &output)
                }
            }
            if scored.hasProbabilities {
                output += Self.probasKey
                for (index, label) in quotedLabels.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    output += label
                    output.append(UInt8(ascii: ":"))
                    Self.write(scored.probability(row, class: index), into: &output)
                }
                output.append(UInt8(ascii: "}"))
            }
            output.append(UInt8(ascii: "}"))
        }

        /// The whole answer, with the time spent preparing the features, scoring and writing.
        consuming func finish(preProcessing: Duration, prediction: Duration, postProcessing: Duration, apiContext: APIContext) -> PredictionAnswer {
            output += Self.timingKey
            QueryEvent.writeMilliseconds(preProcessing, into: &output)
            output += Self.predictionTimeKey
            QueryEvent.writeMilliseconds(prediction, into: &output)
            output += Self.postProcessingKey
            QueryEvent.writeMilliseconds(postProcessing, into: &output)
            output += Self.apiContextKey
            apiContext.write(into: &output)
            output.append(UInt8(ascii: "}"))
            return PredictionAnswer(bytes: output, results: results)
        }

        /// A score as the model computed it (32-bit): its shortest exact decimal form.
        private static func write(_ number: Float, into output: inout [UInt8]) {
            if !number.isFinite {
                output.append(contentsOf: "null".utf8)
            } else if number.rounded() == number, abs(number) < 1e7 {
                JSONValue.writeInteger(Int64(number), into: &output)
            } else {
                output.append(contentsOf: number.description.utf8)
            }
        }

        private static let resultKey = Array(#"{"result":"#.utf8)
        private static let resultsKey = Array(#"{"results":"#.utf8)
        private static let ignoredOpening = Array(#"{"ignored":true,"ignoreReason":"#.utf8)
        private static let scoredOpening = Array(#"{"ignored":false,"prediction":"#.utf8)
        private static let probasKey = Array(#","probas":{"#.utf8)
        private static let timingKey = Array(#","timing":{"preProcessing":"#.utf8)
        private static let predictionTimeKey = Array(#","prediction":"#.utf8)
        private static let postProcessingKey = Array(#","postProcessing":"#.utf8)
        private static let apiContextKey = Array(#"},"apiContext":"#.utf8)
    }
}

/// The `apiContext` of an answer: which service, endpoint and generation served it.
struct APIContext {
    let service: String
    let endpoint: String
    let generation: String

    var value: JSONValue { ["serviceId": .string(service), "endpointId": .string(endpoint), "serviceGeneration": .string(generation)] }

    /// Its JSON object, written member by member (no dictionary on the query path).
    func write(into output: inout [UInt8]) {
        output += Self.serviceKey
        JSONValue.writeString(service, into: &output)
        output += Self.endpointKey
        JSONValue.writeString(endpoint, into: &output)
        output += Self.generationKey
        JSONValue.writeString(generation, into: &output)
        output.append(UInt8(ascii: "}"))
    }

    private static let serviceKey = Array(#"{"serviceId":"#.utf8)
    private static let endpointKey = Array(#","endpointId":"#.utf8)
    private static let generationKey = Array(#","serviceGeneration":"#.utf8)
}
