/// The operators the evaluator implements, by `domain:opType`.
enum OperatorRegistry {
    typealias Factory = @Sendable (NodeContext) throws -> any Kernel

    static let factories: [String: Factory] = [
        "ai.onnx:Identity": { IdentityKernel(context: $0) },
        "ai.onnx:Cast": { try CastKernel(context: $0) },
        "ai.onnx:Add": { try BinaryKernel(context: $0, operation: .add) },
        "ai.onnx:Sub": { try BinaryKernel(context: $0, operation: .subtract) },
        "ai.onnx:Mul": { try BinaryKernel(context: $0, operation: .multiply) },
        "ai.onnx:Div": { try BinaryKernel(context: $0, operation: .divide) },
        "ai.onnx:Concat": { try ConcatKernel(context: $0) },
        "ai.onnx:Reshape": { try ReshapeKernel(context: $0) },
        "ai.onnx:Flatten": { try FlattenKernel(context: $0) },
        "ai.onnx:Gather": { try GatherKernel(context: $0) },
        "ai.onnx:Sigmoid": { try SigmoidKernel(context: $0) },
        "ai.onnx:Softmax": { try SoftmaxKernel(context: $0) },
        "ai.onnx:ArgMax": { try ArgMaxKernel(context: $0) },
        "ai.onnx:MatMul": { try MatMulKernel(context: $0) },
        "ai.onnx:Gemm": { try GemmKernel(context: $0) },
        "ai.onnx.ml:ZipMap": { try ZipMapKernel(context: $0) },
        "ai.onnx.ml:ArrayFeatureExtractor": { try ArrayFeatureExtractorKernel(context: $0) },
        "ai.onnx.ml:Binarizer": { try BinarizerKernel(context: $0) },
        "ai.onnx.ml:FeatureVectorizer": { try FeatureVectorizerKernel(context: $0) },
        "ai.onnx.ml:LabelEncoder": { try LabelEncoderKernel(context: $0) },
        "ai.onnx.ml:Scaler": { try ScalerKernel(context: $0) },
        "ai.onnx.ml:Imputer": { try ImputerKernel(context: $0) },
        "ai.onnx.ml:OneHotEncoder": { try OneHotEncoderKernel(context: $0) },
        "ai.onnx.ml:Normalizer": { try NormalizerKernel(context: $0) },
        "ai.onnx.ml:LinearRegressor": { try LinearRegressorKernel(context: $0) },
        "ai.onnx.ml:LinearClassifier": { try LinearClassifierKernel(context: $0) },
        "ai.onnx.ml:TreeEnsembleRegressor": { try TreeEnsembleRegressorKernel(context: $0) },
        "ai.onnx.ml:TreeEnsembleClassifier": { try TreeEnsembleClassifierKernel(context: $0) },
    ]

    static func key(domain: String, opType: String) -> String {
        "\(domain.isEmpty ? "ai.onnx" : domain):\(opType)"
    }

}
