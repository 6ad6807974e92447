//! The response parser: every documented answer shape, and what it says when a body
//! is not one.

mod common;

use guardrail_cybertip::{
    FileId, ReportDoneResponse, ReportId, ReportResponse, Response, ResponseCode, ResponseError,
    parse_report_done_response, parse_report_response, parse_response,
};

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn report(
    code: ResponseCode,
    description: &str,
    report_id: Option<i64>,
    file_id: Option<&str>,
    md5: Option<&str>,
) -> Response {
    Response::Report(ReportResponse {
        code,
        description: description.to_string(),
        report_id: report_id.map(ReportId),
        file_id: file_id.map(|id| FileId::new(id).expect("test id")),
        md5: md5.map(str::to_string),
    })
}

#[test]
fn documented_answers_parse() {
    let cases: Vec<(String, Response)> = vec![
        // 6.1 Submit Response
        (
            format!("{DECLARATION}\n<reportResponse>\n  <responseCode>0</responseCode>\n  <responseDescription>Success</responseDescription>\n  <reportId>4564654</reportId>\n</reportResponse>"),
            report(ResponseCode::Success, "Success", Some(4564654), None, None),
        ),
        // 6.2 File Upload Response
        (
            common::upload_response(4564654, "b0754af766b426f2928a02c651ed4b99", "fafa5efeaf3cbe3b23b2748d13e629a1"),
            report(ResponseCode::Success, "Success", Some(4564654), Some("b0754af766b426f2928a02c651ed4b99"), Some("fafa5efeaf3cbe3b23b2748d13e629a1")),
        ),
        // 6.4 Finish Response
        (
            common::done_response(4564654, &["b0754af766b426f2928a02c651ed4b99"]),
            Response::Done(ReportDoneResponse {
                code: ResponseCode::Success,
                report_id: ReportId(4564654),
                file_ids: vec![FileId::new("b0754af766b426f2928a02c651ed4b99").expect("id")],
            }),
        ),
        // A text-only report finishes with an empty <files/>.
        (
            format!("{DECLARATION}<reportDoneResponse><responseCode>0</responseCode><reportId>7</reportId><files/></reportDoneResponse>"),
            Response::Done(ReportDoneResponse { code: ResponseCode::Success, report_id: ReportId(7), file_ids: vec![] }),
        ),
        // 7.1 Status Response: no reportId.
        (
            common::report_response(0, "Remote User : usr123, Remote Ip : 127.0.0.1", None),
            report(ResponseCode::Success, "Remote User : usr123, Remote Ip : 127.0.0.1", None, None, None),
        ),
        // Errors: documented codes, an unlisted one, escaped text, upper-case hash.
        (
            common::report_response(4100, "Validation failed: Element 'x' &amp; &lt;y&gt;", None),
            report(ResponseCode::ValidationFailed, "Validation failed: Element 'x' & <y>", None, None, None),
        ),
        (
            common::report_response(5102, "Report already finished", Some(12)),
            report(ResponseCode::ReportAlreadyFinished, "Report already finished", Some(12), None, None),
        ),
        (
            common::report_response(4321, "Something new", Some(12)),
            report(ResponseCode::Other(4321), "Something new", Some(12), None, None),
        ),
        (
            "<reportResponse><responseCode> 0 </responseCode><responseDescription>ok</responseDescription><reportId>1</reportId><fileId> f1 </fileId><hash>ABCDEF</hash><futureField>x</futureField></reportResponse>".to_string(),
            report(ResponseCode::Success, "ok", Some(1), Some("f1"), Some("abcdef")),
        ),
        (
            "<reportResponse><!-- comment --><responseCode>1000</responseCode><responseDescription><![CDATA[Server <error>]]></responseDescription></reportResponse>".to_string(),
            report(ResponseCode::ServerError, "Server <error>", None, None, None),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(parse_response(&body), Ok(expected), "body:\n{body}");
    }
}

#[test]
fn broken_answers_name_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("", "response has no root element"),
        (
            "<html><body>502 Bad Gateway</body></html>",
            "response root is <html>, expected <reportResponse> or <reportDoneResponse>",
        ),
        ("Service Unavailable", "response is not well-formed XML"),
        (
            "<reportResponse><responseCode>0</responseCode>",
            "response is not well-formed XML",
        ),
        (
            "<reportResponse><responseCode>0</responseCode></reportResponse><extra/>",
            "content after the root element",
        ),
        (
            "<reportResponse><responseDescription>x</responseDescription></reportResponse>",
            "<reportResponse> has no <responseCode>",
        ),
        (
            "<reportResponse><responseCode>zero</responseCode></reportResponse>",
            "<responseCode> is \"zero\", expected an integer",
        ),
        (
            "<reportResponse><responseCode>0</responseCode><responseCode>1</responseCode></reportResponse>",
            "<reportResponse> has more than one <responseCode>",
        ),
        (
            "<reportResponse><responseCode>0</responseCode><reportId>12a</reportId></reportResponse>",
            "<reportId> is \"12a\", expected an integer (xs:long)",
        ),
        (
            "<reportResponse><responseCode>0</responseCode><fileId> </fileId></reportResponse>",
            "<fileId> is \" \", expected a non-empty token",
        ),
        (
            "<reportDoneResponse><responseCode>0</responseCode><files/></reportDoneResponse>",
            "<reportDoneResponse> has no <reportId>",
        ),
        (
            "<reportDoneResponse><responseCode>0</responseCode><reportId>1</reportId></reportDoneResponse>",
            "<reportDoneResponse> has no <files>",
        ),
        (
            "<!DOCTYPE r [<!ENTITY e \"x\">]><reportResponse><responseCode>0</responseCode></reportResponse>",
            "response refused: a DOCTYPE in a response",
        ),
        (
            "<reportResponse><responseCode>0</responseCode><responseDescription>&e;</responseDescription></reportResponse>",
            "response refused: unknown entity &e;",
        ),
        (
            "<reportResponse><a><b></a></b></reportResponse>",
            "response is not well-formed XML",
        ),
    ];
    for (body, expected) in cases {
        let error = parse_response(body).expect_err(body);
        assert!(
            error.to_string().contains(expected),
            "body {body:?}: error {error:?} ({error}) does not say {expected:?}"
        );
    }
}

#[test]
fn typed_parsers_insist_on_their_root() {
    let done = common::done_response(1, &[]);
    assert_eq!(
        parse_report_response(&done),
        Err(ResponseError::UnexpectedRoot {
            found: "reportDoneResponse".to_string()
        })
    );
    let report = common::report_response(0, "Success", Some(1));
    assert!(matches!(
        parse_report_done_response(&report),
        Err(ResponseError::UnexpectedRoot { .. })
    ));
    assert_eq!(
        parse_report_done_response(&done).map(|d| d.report_id),
        Ok(ReportId(1))
    );
}

#[test]
fn response_codes_round_trip_and_classify() {
    let table: &[(i32, ResponseCode, bool)] = &[
        (0, ResponseCode::Success, false),
        (1000, ResponseCode::ServerError, true),
        (1100, ResponseCode::SaveFailed, true),
        (1111, ResponseCode::FileUploadFailed, true),
        (2000, ResponseCode::AuthenticationRequired, false),
        (3100, ResponseCode::NotAuthorizedToSubmit, false),
        (4100, ResponseCode::ValidationFailed, false),
        (4110, ResponseCode::MalformedXml, false),
        (5001, ResponseCode::ReportDoesNotExist, false),
        (5102, ResponseCode::ReportAlreadyFinished, false),
        (77, ResponseCode::Other(77), false),
    ];
    for (number, code, transient) in table {
        assert_eq!(ResponseCode::from_number(*number), *code);
        assert_eq!(code.number(), *number);
        assert_eq!(code.is_transient(), *transient, "{code}");
    }
    assert_eq!(
        ResponseCode::ValidationFailed.to_string(),
        "4100 (Validation failed)"
    );
    assert_eq!(
        ResponseCode::Other(77).to_string(),
        "77 (unlisted response code)"
    );
}

#[test]
fn hostile_bodies_are_bounded() {
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(matches!(
        parse_response(&deep),
        Err(ResponseError::Refused { .. })
    ));
    let huge = format!("<reportResponse>{}</reportResponse>", "x".repeat(5 << 20));
    assert!(matches!(
        parse_response(&huge),
        Err(ResponseError::Refused { .. })
    ));
}
