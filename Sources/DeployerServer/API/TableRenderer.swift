import DeployerCore
import DeployerModel
import Foundation

/// Renders `meta.k8s.io/v1` Tables from a kind's printer columns, as `kubectl get` shows them.
struct TableRenderer {
    let kind: ResourceKind
    let now: Date

    func table(_ objects: [StoredObject], resourceVersion: UInt64) -> JSONValue {
        var definitions: [JSONValue] = [
            ["name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0]
        ]
        for column in kind.printerColumns {
            definitions.append([
                "name": .string(column.name), "type": .string(column.type == "date" ? "string" : column.type),
                "format": "", "description": .string(column.description), "priority": .int(Int64(column.priority)),
            ])
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": ["resourceVersion": .string(String(resourceVersion))],
            "columnDefinitions": .array(definitions),
            "rows": .array(objects.map { row($0.document) }),
        ]
    }

    /// One row: the name, then each column's value.
    func row(_ document: JSONValue) -> JSONValue {
        var cells: [JSONValue] = [document["metadata"]?["name"] ?? ""]
        for column in kind.printerColumns {
            let values = JSONPathExpression(column.jsonPath)?.evaluate(document) ?? []
            if column.type == "date" {
                cells.append(.string(values.first?.stringValue.flatMap(Self.parseTimestamp).map(age) ?? "<unknown>"))
            } else if values.count == 1, column.type == "integer" || column.type == "boolean" || column.type == "number" {
                cells.append(values[0])
            } else {
                cells.append(.string(values.map(JSONPathExpression.text).joined(separator: ",")))
            }
        }
        return [
            "cells": .array(cells),
            "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": document["metadata"] ?? [:]],
        ]
    }

    static func parseTimestamp(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    /// Kubernetes' short human durations (`duration.HumanDuration`).
    func age(since date: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<600: return seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds / 60)m\(seconds % 60)s"
        case ..<(3 * 3600): return "\(seconds / 60)m"
        case ..<(8 * 3600): return (seconds / 60) % 60 == 0 ? "\(seconds / 3600)h" : "\(seconds / 3600)h\((seconds / 60) % 60)m"
        case ..<(48 * 3600): return "\(seconds / 3600)h"
        case ..<(8 * 86400): return (seconds / 3600) % 24 == 0 ? "\(seconds / 86400)d" : "\(seconds / 86400)d\((seconds / 3600) % 24)h"
        case ..<(730 * 86400): return "\(seconds / 86400)d"
        default: return "\(seconds / (365 * 86400))y"
        }
    }
}
