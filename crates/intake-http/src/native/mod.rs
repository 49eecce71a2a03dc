//! The native JSON API under `/v1`. Routes and the OpenAPI document come
//! from the same declarations (utoipa-axum), so the document cannot drift
//! from what the server answers.

mod admin;
mod files;
mod intents;
pub(crate) mod lists;
mod projects;
mod webhooks;
mod wire;

use crate::AppState;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "intake", description = "File and document intake: streaming uploads, checks, storage."),
    modifiers(&Security),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(files::upload, files::list))
        .routes(routes!(files::get, files::delete))
        .routes(routes!(files::by_external_id))
        .routes(routes!(files::content))
        .routes(routes!(files::get_upload))
        .routes(routes!(intents::create))
        .routes(routes!(intents::complete))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::get, projects::update, projects::delete))
        .routes(routes!(projects::list_folders, projects::create_folder))
        .routes(routes!(projects::get_folder, projects::delete_folder))
        .routes(routes!(admin::list_keys, admin::create_key))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::delete_user))
        .routes(routes!(admin::list_tenants, admin::create_tenant))
        .routes(routes!(admin::create_tenant_key))
        .routes(routes!(admin::create_tenant_user))
        .routes(routes!(admin::create_tenant_project))
        .routes(routes!(lists::list, lists::create))
        .routes(routes!(lists::get))
        .routes(routes!(lists::members, lists::add_members))
        .routes(routes!(lists::activity))
}
