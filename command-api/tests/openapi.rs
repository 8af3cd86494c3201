//! The OpenAPI document is a contract: every command operation is in it, with its path
//! parameters, headers, request body schema and answers. No servers needed: the document
//! is built from the route tables.

use serde_json::Value;

/// (method, path, operationId, request body schema, path parameters, If-Match required,
/// creates its aggregate).
type Operation = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    bool,
);

/// Every command the API takes.
const COMMANDS: [Operation; 11] = [
    ("post", "/v1/sales", "complete_sale", "CompleteSale", &[], false, true),
    (
        "post",
        "/v1/sales/{sale_id}/void",
        "void_sale",
        "VoidSale",
        &["sale_id"],
        false,
        false,
    ),
    (
        "post",
        "/v1/sales/{sale_id}/refunds",
        "refund_sale",
        "RefundSale",
        &["sale_id"],
        false,
        false,
    ),
    (
        "post",
        "/v1/inventory/receipts",
        "receive_stock",
        "ReceiveStock",
        &[],
        false,
        true,
    ),
    (
        "post",
        "/v1/inventory/adjustments",
        "adjust_stock",
        "AdjustStock",
        &[],
        false,
        true,
    ),
    (
        "post",
        "/v1/inventory/counts",
        "count_stock",
        "CountStock",
        &[],
        false,
        true,
    ),
    (
        "post",
        "/v1/inventory/transfers",
        "transfer_stock",
        "TransferStock",
        &[],
        false,
        true,
    ),
    (
        "post",
        "/v1/products",
        "register_product",
        "RegisterProduct",
        &[],
        false,
        true,
    ),
    (
        "put",
        "/v1/products/{sku}",
        "update_product",
        "UpdateProduct",
        &["sku"],
        true,
        false,
    ),
    (
        "put",
        "/v1/products/{sku}/price",
        "change_price",
        "ChangePrice",
        &["sku"],
        true,
        false,
    ),
    (
        "post",
        "/v1/products/{sku}/discontinue",
        "discontinue_product",
        "DiscontinueProduct",
        &["sku"],
        true,
        false,
    ),
];

fn document() -> Value {
    let (_, openapi) = command_api::routes::router().split_for_parts();
    serde_json::to_value(&openapi).expect("the document serialises")
}

fn schema_ref(content: &Value) -> Option<&str> {
    content["application/json"]["schema"]["$ref"].as_str()
}

#[test]
fn every_command_operation_is_documented_with_its_body_parameters_and_answers() {
    let doc = document();
    for (method, path, operation_id, body, path_params, if_match, creates) in COMMANDS {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        assert_eq!(operation["operationId"], operation_id, "{method} {path}");
        assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]), "{path}");

        let request = &operation["requestBody"];
        assert_eq!(request["required"], true, "{path}");
        let expected_ref = format!("#/components/schemas/{body}");
        assert_eq!(schema_ref(&request["content"]), Some(expected_ref.as_str()), "{path}");
        assert!(
            doc["components"]["schemas"][body]["properties"].is_object(),
            "{body} is in the components with its properties"
        );

        let parameters: Vec<(&str, &str, bool)> = operation["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default(),
                    p["in"].as_str().unwrap_or_default(),
                    p["required"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        let mut expected: Vec<(&str, &str, bool)> = path_params.iter().map(|name| (*name, "path", true)).collect();
        if if_match {
            expected.push(("If-Match", "header", true));
        }
        expected.push(("Idempotency-Key", "header", false));
        assert_eq!(parameters, expected, "{path}");

        let responses = &operation["responses"];
        assert_eq!(
            schema_ref(&responses["201"]["content"]),
            Some("#/components/schemas/Accepted"),
            "{path}"
        );
        let mut statuses = vec!["400", "401", "403", "409", "413", "415", "422", "503"];
        if !creates {
            statuses.push("404");
        }
        if if_match {
            statuses.push("428");
        }
        for status in statuses {
            assert_eq!(
                schema_ref(&responses[status]["content"]),
                Some("#/components/schemas/ErrorBody"),
                "{path} documents {status}"
            );
        }
        let etag = responses["201"]["headers"]["ETag"].is_object();
        assert_eq!(
            etag,
            path.starts_with("/v1/products"),
            "{path}: ETag on catalog answers only"
        );
    }
    for shared in [
        "Accepted",
        "ErrorBody",
        "ErrorDetail",
        "SaleLineInput",
        "ProductDetailsInput",
    ] {
        assert!(
            doc["components"]["schemas"][shared].is_object(),
            "{shared} is in the components"
        );
    }
}

#[test]
fn the_queries_that_share_a_path_with_a_command_are_still_documented() {
    let doc = document();
    for path in ["/v1/sales", "/v1/products", "/v1/sales/{sale_id}", "/v1/products/{sku}"] {
        assert!(doc["paths"][path]["get"].is_object(), "GET {path}");
    }
}

#[test]
fn every_operation_documents_the_servers_own_answers() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            let responses = &operation["responses"];
            // Every operation can meet the request cap (`/ready` documents its own 503).
            assert!(responses.get("503").is_some(), "{method} {path} documents 503");
            if operation.get("requestBody").is_some() {
                for status in ["408", "413"] {
                    assert_eq!(
                        schema_ref(&responses[status]["content"]),
                        Some("#/components/schemas/ErrorBody"),
                        "{method} {path} documents {status}"
                    );
                }
            }
        }
    }
}
