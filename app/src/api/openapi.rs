//! GET /openapi.json: the OpenAPI 3.1 description generated from the handlers.

use super::ApiContext;
use crate::domain::event::TEXT_FIELDS;
use axum::{Json, Router, routing::get};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "flightdeck API",
        description = "Flight events ingested from Pub/Sub, served newest first, per flight and as daily delay statistics. Errors are RFC 9457 problem+json."
    ),
    modifiers(&KeysAndQuotas, &FieldRules),
    paths(
        super::events::list_events,
        super::flights::get_flight,
        super::stats::delays,
        super::health::healthz,
        super::health::readyz,
        openapi_json,
    ),
    tags(
        (name = "events", description = "The event feed"),
        (name = "flights", description = "Current state per flight"),
        (name = "stats", description = "Analytics"),
        (name = "health", description = "Probes"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Declares the API key schemes on every data path (`/v1/...`, the paths `auth` guards), with
/// their 401 and 429 answers and the quota headers; written once here, not per handler.
struct KeysAndQuotas;

fn header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String))
        .description(Some(description))
        .build()
}

fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

const POLICY: &str = "Quota of the key: `\"burst\";q=<burst>;w=<seconds to refill it>` (draft-ietf-httpapi-ratelimit-headers)";
const STATE: &str = "What is left of it: `\"burst\";r=<requests left>;t=<seconds until full>`";

impl Modify for KeysAndQuotas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("fdk_<prefix>_<secret>")
                    .description(Some("An API key from `flightdeck apikey create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The same API key, in its own header",
            ))),
        );
        let unauthorized: RefOr<Response> =
            problem("No API key, or one that is unknown, revoked or malformed")
                .header(
                    "WWW-Authenticate",
                    header("The Bearer challenge (RFC 6750)"),
                )
                .build()
                .into();
        let throttled: RefOr<Response> =
            problem("The key is over its quota; retry after Retry-After seconds")
                .header(
                    "Retry-After",
                    header("Seconds until a request is admitted again"),
                )
                .header("RateLimit-Policy", header(POLICY))
                .header("RateLimit", header(STATE))
                .build()
                .into();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(operation) = item.get.as_mut().filter(|_| path.starts_with("/v1/")) else {
                continue;
            };
            operation.security = Some(vec![
                SecurityRequirement::new("bearer", Vec::<String>::new()),
                SecurityRequirement::new("api_key", Vec::<String>::new()),
            ]);
            let responses = &mut operation.responses.responses;
            responses.insert("401".into(), unauthorized.clone());
            responses.insert("429".into(), throttled.clone());
            if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                ok.headers.insert("RateLimit-Policy".into(), header(POLICY));
                ok.headers.insert("RateLimit".into(), header(STATE));
            }
        }
    }
}

/// Writes each field rule's pattern into the document, for every parameter and property of
/// that name: the rules live once in `domain::event` (and the cursor's in `api::cursor`), not
/// in the handlers' attributes.
struct FieldRules;

fn rule_pattern(name: &str) -> Option<&'static str> {
    match name {
        "cursor" | "next_cursor" => Some(super::cursor::PATTERN),
        _ => TEXT_FIELDS
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, rule)| rule.pattern),
    }
}

fn set_pattern(schema: &mut RefOr<Schema>, pattern: &str) {
    if let RefOr::T(Schema::Object(object)) = schema {
        object.pattern = Some(pattern.to_string());
    }
}

fn properties_with_rules(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for (name, property) in object.properties.iter_mut() {
                if let Some(pattern) = rule_pattern(name) {
                    set_pattern(property, pattern);
                }
            }
        }
        RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().for_each(properties_with_rules),
        _ => {}
    }
}

impl Modify for FieldRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let parameters = item
                .get
                .iter_mut()
                .flat_map(|op| op.parameters.iter_mut().flatten());
            for parameter in parameters {
                if let (Some(pattern), Some(schema)) =
                    (rule_pattern(&parameter.name), parameter.schema.as_mut())
                {
                    set_pattern(schema, pattern);
                }
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            components
                .schemas
                .values_mut()
                .for_each(properties_with_rules);
        }
    }
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/openapi.json", get(openapi_json))
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
