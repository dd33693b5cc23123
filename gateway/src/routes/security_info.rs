//! `/api/v1/me/security-info*`: the "Security info" page. Adding, verifying, removing and
//! changing the default need a recent multi-factor sign-in; security-info answers 403
//! `reauthentication-required` otherwise, and `POST /auth/reauthenticate` gets one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::securityinfo::v1 as pb;

use crate::extract::{ApiJson, ApiPath, Bearer};
use crate::json::{
    AddMethodBody, AddedMethod, DefaultMethodBody, RenameMethodBody, SecurityInfo, SecurityMethod, VerifyMethodBody,
    rfc3339,
};
use crate::problem::{FieldError, Problem};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/me/security-info",
    tag = "security-info",
    responses((status = 200, description = "My sign-in methods, the default one, and whether MFA is registered and required", body = SecurityInfo))
)]
pub async fn get(State(state): State<AppState>, bearer: Bearer) -> Result<Json<SecurityInfo>, Problem> {
    let info = state
        .security_info()
        .get_my_security_info(bearer.request(pb::GetMySecurityInfoRequest {})?)
        .await?
        .into_inner();
    Ok(Json(info.into()))
}

/// `uri` as an SVG QR code in a data URL (`img-src data:` is allowed by the CSP). `None` when
/// it does not fit a QR code, which leaves the secret and URI to type or paste.
fn qr_code(uri: &str) -> Option<String> {
    use base64::Engine;
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

fn field(field: &str, message: &str) -> Problem {
    Problem::validation(vec![FieldError {
        field: field.into(),
        message: message.into(),
        code: String::new(),
    }])
}

#[utoipa::path(
    post,
    path = "/me/security-info/methods",
    tag = "security-info",
    request_body = AddMethodBody,
    responses(
        (status = 201, description = "The new method: pending with what the next step needs (secret, `otpauthUri` and its `qrCode`, `sentTo`, `publicKey`), or active with secrets shown this once (`password`, `codes`)", body = AddedMethod),
        (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_method(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<AddMethodBody>,
) -> Result<(StatusCode, Json<AddedMethod>), Problem> {
    let mut client = state.security_info();
    let added = match body {
        AddMethodBody::AuthenticatorApp { name } => {
            let r = client
                .start_authenticator_app_registration(
                    bearer.request(pb::StartAuthenticatorAppRegistrationRequest { name })?,
                )
                .await?
                .into_inner();
            AddedMethod {
                method_id: r.method_id,
                status: "pending",
                secret: Some(r.secret),
                qr_code: qr_code(&r.otpauth_uri),
                otpauth_uri: Some(r.otpauth_uri),
                expires_at: rfc3339(r.expires_at.as_ref()),
                ..Default::default()
            }
        }
        AddMethodBody::Phone {
            phone_type,
            number,
            delivery,
        } => {
            let phone_type = match phone_type.as_str() {
                "mobile" => pb::PhoneType::Mobile,
                "alternateMobile" => pb::PhoneType::AlternateMobile,
                "office" => pb::PhoneType::Office,
                _ => return Err(field("phoneType", "must be mobile, alternateMobile or office")),
            };
            let delivery = match delivery.as_deref() {
                None => pb::PhoneDelivery::Unspecified,
                Some("sms") => pb::PhoneDelivery::Sms,
                Some("voice") => pb::PhoneDelivery::Voice,
                Some(_) => return Err(field("delivery", "must be sms or voice")),
            };
            let r = client
                .start_phone_registration(bearer.request(pb::StartPhoneRegistrationRequest {
                    phone_type: phone_type.into(),
                    phone_number: number,
                    delivery: delivery.into(),
                })?)
                .await?
                .into_inner();
            pending(r)
        }
        AddMethodBody::Email { address } => {
            let r = client
                .start_email_registration(bearer.request(pb::StartEmailRegistrationRequest { email: address })?)
                .await?
                .into_inner();
            pending(r)
        }
        AddMethodBody::SecurityKey { name } => {
            let r = client
                .start_security_key_registration(bearer.request(pb::StartSecurityKeyRegistrationRequest { name })?)
                .await?
                .into_inner();
            AddedMethod {
                method_id: r.method_id,
                status: "pending",
                public_key: AddedMethod::options(&r.creation_options_json),
                expires_at: rfc3339(r.expires_at.as_ref()),
                ..Default::default()
            }
        }
        AddMethodBody::AppPassword { name } => {
            let r = client
                .create_app_password(bearer.request(pb::CreateAppPasswordRequest { name })?)
                .await?
                .into_inner();
            AddedMethod {
                method_id: r.method.map(|m| m.id).unwrap_or_default(),
                status: "active",
                password: Some(r.password),
                ..Default::default()
            }
        }
        AddMethodBody::RecoveryCodes {} => {
            let r = client
                .generate_recovery_codes(bearer.request(pb::GenerateRecoveryCodesRequest {})?)
                .await?
                .into_inner();
            AddedMethod {
                method_id: r.method.map(|m| m.id).unwrap_or_default(),
                status: "active",
                codes: Some(r.codes),
                ..Default::default()
            }
        }
    };
    Ok((StatusCode::CREATED, Json(added)))
}

fn pending(r: pb::PendingMethod) -> AddedMethod {
    AddedMethod {
        method_id: r.method_id,
        status: "pending",
        sent_to: Some(r.sent_to),
        expires_at: rfc3339(r.expires_at.as_ref()),
        ..Default::default()
    }
}

/// The second half of adding a method: the code an app shows or a phone/email received, or a
/// security key's answer.
#[utoipa::path(
    post,
    path = "/me/security-info/methods/{id}/verify",
    tag = "security-info",
    params(("id" = String, Path, description = "the method id")),
    request_body = VerifyMethodBody,
    responses(
        (status = 200, description = "The method, now active", body = SecurityMethod),
        (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such method of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_method(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(method_id): ApiPath<String>,
    ApiJson(body): ApiJson<VerifyMethodBody>,
) -> Result<Json<SecurityMethod>, Problem> {
    let mut client = state.security_info();
    let method = match (body.code, body.credential) {
        (Some(code), None) => client
            .verify_method(bearer.request(pb::VerifyMethodRequest { method_id, code })?)
            .await?
            .into_inner(),
        (None, Some(credential)) => client
            .complete_security_key_registration(bearer.request(pb::CompleteSecurityKeyRegistrationRequest {
                method_id,
                credential_json: credential.to_string(),
            })?)
            .await?
            .into_inner(),
        _ => return Err(field("code", "send either code or credential")),
    };
    Ok(Json(method.into()))
}

#[utoipa::path(
    delete,
    path = "/me/security-info/methods/{id}",
    tag = "security-info",
    params(("id" = String, Path, description = "the method id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`failed-precondition`: the last second factor while my organization requires MFA", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such method of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_method(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(method_id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    state
        .security_info()
        .remove_method(bearer.request(pb::RemoveMethodRequest { method_id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renames an authenticator app, security key or passkey, or app password. Needs no step-up: a
/// name changes no way to sign in.
#[utoipa::path(
    patch,
    path = "/me/security-info/methods/{id}",
    tag = "security-info",
    params(("id" = String, Path, description = "the method id")),
    request_body = RenameMethodBody,
    responses(
        (status = 200, description = "The renamed method", body = SecurityMethod),
        (status = 400, description = "`validation-error`: `name` empty or longer than 64 characters, or the id is not a method id; `failed-precondition`: a phone, email address or recovery codes have no name to change. Nothing changes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such method of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rename_method(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(method_id): ApiPath<String>,
    ApiJson(body): ApiJson<RenameMethodBody>,
) -> Result<Json<SecurityMethod>, Problem> {
    let method = state
        .security_info()
        .rename_method(bearer.request(pb::RenameMethodRequest {
            method_id,
            name: body.name,
        })?)
        .await?
        .into_inner();
    Ok(Json(method.into()))
}

#[utoipa::path(
    put,
    path = "/me/security-info/default",
    tag = "security-info",
    request_body = DefaultMethodBody,
    responses(
        (status = 200, description = "My security info with the new default", body = SecurityInfo),
        (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such method of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_default(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<DefaultMethodBody>,
) -> Result<Json<SecurityInfo>, Problem> {
    let info = state
        .security_info()
        .set_default_method(bearer.request(pb::SetDefaultMethodRequest {
            method_id: body.method_id,
        })?)
        .await?
        .into_inner();
    Ok(Json(info.into()))
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    #[test]
    fn the_qr_code_is_an_svg_data_url() {
        let uri = "otpauth://totp/MyAccount:adele%40contoso.example?secret=JBSWY3DPEHPK3PXP&issuer=MyAccount";
        let url = super::qr_code(uri).expect("fits a QR code");
        let encoded = url.strip_prefix("data:image/svg+xml;base64,").expect("data URL");
        let svg = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .expect("base64"),
        )
        .expect("utf-8");
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
        assert!(!svg.contains("JBSWY3DPEHPK3PXP"), "the secret is drawn, not written");
        assert!(super::qr_code(&"x".repeat(8000)).is_none(), "too long for any QR code");
    }
}
