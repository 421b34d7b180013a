//! `/v1/admin/…`: the operators' API, guarded by admin API keys (Bearer). A
//! tenant-scoped key sees and changes only its own tenant; any other answers 404
//! exactly like a missing one. One module per resource.
pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod imports;
pub mod keys;
pub mod tenants;
pub mod users;

use serde::Deserialize;
use utoipa::IntoParams;

/// Pagination parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}
