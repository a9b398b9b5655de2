//! LookupUser: Relais asks who a patron is (placeholder until the patron-lookup work lands).

use crate::alma::CallContext;
use crate::app::App;
use crate::ncip::{self, LookupUser, Problem, ServiceKind};

pub(crate) async fn handle(_app: &App, message: LookupUser, _ctx: &CallContext) -> Vec<u8> {
    let problem = Problem::unsupported_service("LookupUser");
    ncip::write(&ncip::problem_response(ServiceKind::LookupUser, message.header.as_ref(), vec![problem]))
}
