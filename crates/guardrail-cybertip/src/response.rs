//! The API's answers: `<reportResponse>` (from `/status`, `/submit`, `/upload`,
//! `/fileinfo`, `/retract`) and `<reportDoneResponse>` (from `/finish`), read into
//! typed values.
//!
//! The parser is strict about what the flow relies on (a root it knows, exactly one
//! integer `responseCode`, a report id that is a number, no element twice) and lenient
//! about the rest: an element it does not know is skipped, so a schema that grows new
//! response fields does not stop referrals. Every error names the element and what was
//! expected. Response codes are the documentation's non-exhaustive list (appendix D);
//! an unlisted code is kept as a number, never guessed at.
//!
//! It never resolves DTDs or entities beyond XML's five predefined ones and character
//! references (a response with a DOCTYPE is refused), and bounds the document's depth
//! and size, so a hostile or broken server cannot make it allocate without limit.

use std::fmt;

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::{Deserialize, Serialize};

/// A report id assigned by the server (`xs:long`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReportId(pub i64);

impl fmt::Display for ReportId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

/// A file id assigned by the server to an uploaded file (`xs:token`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileId(String);

impl FileId {
    /// A file id as the server wrote it (surrounding white space removed, as for
    /// `xs:token`); `None` when empty or containing white space inside.
    pub fn new(text: &str) -> Option<Self> {
        let token = text.trim();
        (!token.is_empty() && !token.chars().any(char::is_whitespace))
            .then(|| FileId(token.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// `responseCode`: 0 is success; the rest is the documentation's list (appendix D),
/// which it calls non-exhaustive, so any other number is [`ResponseCode::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i32", into = "i32")]
#[non_exhaustive]
pub enum ResponseCode {
    /// 0 Success.
    Success,
    /// 1000 Server error.
    ServerError,
    /// 1100 Save failed.
    SaveFailed,
    /// 1110 Upload failed.
    UploadFailed,
    /// 1111 File upload failed.
    FileUploadFailed,
    /// 1210 Resource not found.
    ResourceNotFound,
    /// 1300 Update failed.
    UpdateFailed,
    /// 2000 Authentication required.
    AuthenticationRequired,
    /// 3000 User is not authorized to perform this action.
    NotAuthorized,
    /// 3100 User does not have authorization to make submissions.
    NotAuthorizedToSubmit,
    /// 3300 User does not have authorization to make updates.
    NotAuthorizedToUpdate,
    /// 4000 Invalid request.
    InvalidRequest,
    /// 4100 Validation failed.
    ValidationFailed,
    /// 4110 Malformed XML submittal.
    MalformedXml,
    /// 4200 Malformed file submittal.
    MalformedFile,
    /// 5001 Report does not exist.
    ReportDoesNotExist,
    /// 5002 File does not exist.
    FileDoesNotExist,
    /// 5101 Report already retracted.
    ReportAlreadyRetracted,
    /// 5102 Report already finished.
    ReportAlreadyFinished,
    /// A code the documentation does not list.
    Other(i32),
}

const KNOWN_CODES: [(i32, ResponseCode, &str); 19] = [
    (0, ResponseCode::Success, "Success"),
    (1000, ResponseCode::ServerError, "Server error"),
    (1100, ResponseCode::SaveFailed, "Save failed"),
    (1110, ResponseCode::UploadFailed, "Upload failed"),
    (1111, ResponseCode::FileUploadFailed, "File upload failed"),
    (1210, ResponseCode::ResourceNotFound, "Resource not found"),
    (1300, ResponseCode::UpdateFailed, "Update failed"),
    (
        2000,
        ResponseCode::AuthenticationRequired,
        "Authentication required",
    ),
    (
        3000,
        ResponseCode::NotAuthorized,
        "User is not authorized to perform this action",
    ),
    (
        3100,
        ResponseCode::NotAuthorizedToSubmit,
        "User does not have authorization to make submissions",
    ),
    (
        3300,
        ResponseCode::NotAuthorizedToUpdate,
        "User does not have authorization to make updates",
    ),
    (4000, ResponseCode::InvalidRequest, "Invalid request"),
    (4100, ResponseCode::ValidationFailed, "Validation failed"),
    (4110, ResponseCode::MalformedXml, "Malformed XML submittal"),
    (
        4200,
        ResponseCode::MalformedFile,
        "Malformed file submittal",
    ),
    (
        5001,
        ResponseCode::ReportDoesNotExist,
        "Report does not exist",
    ),
    (5002, ResponseCode::FileDoesNotExist, "File does not exist"),
    (
        5101,
        ResponseCode::ReportAlreadyRetracted,
        "Report already retracted",
    ),
    (
        5102,
        ResponseCode::ReportAlreadyFinished,
        "Report already finished",
    ),
];

impl ResponseCode {
    /// The code for a number.
    pub fn from_number(number: i32) -> Self {
        KNOWN_CODES
            .iter()
            .find(|(known, _, _)| *known == number)
            .map_or(ResponseCode::Other(number), |(_, code, _)| *code)
    }

    /// The number on the wire.
    pub fn number(self) -> i32 {
        match self {
            ResponseCode::Other(number) => number,
            code => KNOWN_CODES
                .iter()
                .find(|(_, known, _)| *known == code)
                .map_or(-1, |(number, _, _)| *number),
        }
    }

    /// The documentation's description, or "unlisted response code".
    pub fn documented_description(self) -> &'static str {
        KNOWN_CODES
            .iter()
            .find(|(_, known, _)| *known == self)
            .map_or("unlisted response code", |(_, _, description)| description)
    }

    /// Whether the code is 0.
    pub fn is_success(self) -> bool {
        self == ResponseCode::Success
    }

    /// Whether sending the same request again may succeed: the server-side failures
    /// (1xxx). Authentication and authorisation (2xxx, 3xxx) need new credentials, a
    /// refused request (4xxx) needs different data, and 5xxx describe the report's
    /// state; none of them changes by itself. Unlisted codes are not retried blindly.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ResponseCode::ServerError
                | ResponseCode::SaveFailed
                | ResponseCode::UploadFailed
                | ResponseCode::FileUploadFailed
                | ResponseCode::UpdateFailed
        )
    }
}

impl From<i32> for ResponseCode {
    fn from(number: i32) -> Self {
        ResponseCode::from_number(number)
    }
}

impl From<ResponseCode> for i32 {
    fn from(code: ResponseCode) -> Self {
        code.number()
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} ({})",
            self.number(),
            self.documented_description()
        )
    }
}

/// `<reportResponse>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportResponse {
    /// `responseCode`.
    pub code: ResponseCode,
    /// `responseDescription` (required by the schema; empty if a server omits it).
    pub description: String,
    /// `reportId`, absent in `/status` answers and in some errors.
    pub report_id: Option<ReportId>,
    /// `fileId`, in `/upload` answers.
    pub file_id: Option<FileId>,
    /// `hash`: the MD5 of the uploaded file, in `/upload` answers.
    pub md5: Option<String>,
}

/// `<reportDoneResponse>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDoneResponse {
    /// `responseCode`.
    pub code: ResponseCode,
    /// `reportId`.
    pub report_id: ReportId,
    /// `files/fileId`: every file the report holds.
    pub file_ids: Vec<FileId>,
}

/// Either answer document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// `<reportResponse>`.
    Report(ReportResponse),
    /// `<reportDoneResponse>`.
    Done(ReportDoneResponse),
}

impl Response {
    /// The response code of either kind.
    pub fn code(&self) -> ResponseCode {
        match self {
            Response::Report(response) => response.code,
            Response::Done(response) => response.code,
        }
    }
}

/// Why a response body could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The body is not well-formed XML.
    #[error("response is not well-formed XML at byte {position}: {message}")]
    NotXml {
        /// Byte offset of the error.
        position: u64,
        /// The XML reader's message.
        message: String,
    },
    /// The body has no root element (empty, or only a declaration).
    #[error("response has no root element")]
    Empty,
    /// The root element is not one the API sends.
    #[error("response root is <{found}>, expected <reportResponse> or <reportDoneResponse>")]
    UnexpectedRoot {
        /// The root element's name.
        found: String,
    },
    /// A required element is missing.
    #[error("<{parent}> has no <{element}>")]
    MissingElement {
        /// The element that holds it.
        parent: &'static str,
        /// The missing element.
        element: &'static str,
    },
    /// An element appears twice where the schema allows one.
    #[error("<{parent}> has more than one <{element}>")]
    DuplicateElement {
        /// The element that holds it.
        parent: String,
        /// The repeated element.
        element: String,
    },
    /// An element's text is not the expected kind of value.
    #[error("<{element}> is {value:?}, expected {expected}")]
    BadValue {
        /// The element.
        element: &'static str,
        /// Its text.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// The document uses something this reader refuses (DTD, unknown entity, depth or
    /// size beyond the bounds).
    #[error("response refused: {reason}")]
    Refused {
        /// What it was.
        reason: String,
    },
}

/// Parses either response document.
pub fn parse_response(body: &str) -> Result<Response, ResponseError> {
    let root = read_tree(body)?;
    match root.name.as_str() {
        "reportResponse" => read_report_response(&root).map(Response::Report),
        "reportDoneResponse" => read_done_response(&root).map(Response::Done),
        _ => Err(ResponseError::UnexpectedRoot { found: root.name }),
    }
}

/// Parses a `<reportResponse>`; any other root is an error.
pub fn parse_report_response(body: &str) -> Result<ReportResponse, ResponseError> {
    let root = read_tree(body)?;
    if root.name != "reportResponse" {
        return Err(ResponseError::UnexpectedRoot { found: root.name });
    }
    read_report_response(&root)
}

/// Parses a `<reportDoneResponse>`; any other root is an error.
pub fn parse_report_done_response(body: &str) -> Result<ReportDoneResponse, ResponseError> {
    let root = read_tree(body)?;
    if root.name != "reportDoneResponse" {
        return Err(ResponseError::UnexpectedRoot { found: root.name });
    }
    read_done_response(&root)
}

fn read_report_response(root: &Node) -> Result<ReportResponse, ResponseError> {
    const PARENT: &str = "reportResponse";
    let code = read_code(root, PARENT)?;
    let description = root
        .only_child(PARENT, "responseDescription")?
        .map(|node| node.text.trim().to_string())
        .unwrap_or_default();
    let report_id = root
        .only_child(PARENT, "reportId")?
        .map(|node| read_report_id(&node.text))
        .transpose()?;
    let file_id = root
        .only_child(PARENT, "fileId")?
        .map(|node| {
            FileId::new(&node.text).ok_or_else(|| ResponseError::BadValue {
                element: "fileId",
                value: node.text.clone(),
                expected: "a non-empty token",
            })
        })
        .transpose()?;
    let md5 = root
        .only_child(PARENT, "hash")?
        .map(|node| node.text.trim().to_ascii_lowercase());
    Ok(ReportResponse {
        code,
        description,
        report_id,
        file_id,
        md5,
    })
}

fn read_done_response(root: &Node) -> Result<ReportDoneResponse, ResponseError> {
    const PARENT: &str = "reportDoneResponse";
    let code = read_code(root, PARENT)?;
    let report_id = root
        .only_child(PARENT, "reportId")?
        .ok_or(ResponseError::MissingElement {
            parent: PARENT,
            element: "reportId",
        })
        .and_then(|node| read_report_id(&node.text))?;
    let files = root
        .only_child(PARENT, "files")?
        .ok_or(ResponseError::MissingElement {
            parent: PARENT,
            element: "files",
        })?;
    let mut file_ids = Vec::new();
    for node in files.children.iter().filter(|node| node.name == "fileId") {
        file_ids.push(
            FileId::new(&node.text).ok_or_else(|| ResponseError::BadValue {
                element: "fileId",
                value: node.text.clone(),
                expected: "a non-empty token",
            })?,
        );
    }
    Ok(ReportDoneResponse {
        code,
        report_id,
        file_ids,
    })
}

fn read_code(root: &Node, parent: &'static str) -> Result<ResponseCode, ResponseError> {
    let node = root
        .only_child(parent, "responseCode")?
        .ok_or(ResponseError::MissingElement {
            parent,
            element: "responseCode",
        })?;
    node.text
        .trim()
        .parse::<i32>()
        .map(ResponseCode::from_number)
        .map_err(|_| ResponseError::BadValue {
            element: "responseCode",
            value: node.text.clone(),
            expected: "an integer",
        })
}

fn read_report_id(text: &str) -> Result<ReportId, ResponseError> {
    text.trim()
        .parse::<i64>()
        .map(ReportId)
        .map_err(|_| ResponseError::BadValue {
            element: "reportId",
            value: text.to_string(),
            expected: "an integer (xs:long)",
        })
}

/// An element with its text and child elements; attributes are not needed by any
/// response.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    /// The child named `element`, if any; an error if there are several.
    fn only_child(&self, parent: &str, element: &str) -> Result<Option<&Node>, ResponseError> {
        let mut found = self.children.iter().filter(|node| node.name == element);
        let first = found.next();
        if found.next().is_some() {
            return Err(ResponseError::DuplicateElement {
                parent: parent.to_string(),
                element: element.to_string(),
            });
        }
        Ok(first)
    }
}

/// Bounds on a response document: the real ones are a few hundred bytes and three
/// levels deep; a finished report lists one `fileId` per file.
const MAX_BODY_BYTES: usize = 4 << 20;
const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 100_000;

fn read_tree(body: &str) -> Result<Node, ResponseError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ResponseError::Refused {
            reason: format!("body is {} bytes, over {MAX_BODY_BYTES}", body.len()),
        });
    }
    let mut reader = Reader::from_str(body);
    let not_xml = |reader: &Reader<&[u8]>, message: String| ResponseError::NotXml {
        position: reader.error_position(),
        message,
    };
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| not_xml(&reader, error.to_string()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(not_xml(
                    &reader,
                    "content after the root element".to_string(),
                ));
            }
            Event::Start(start) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(ResponseError::Refused {
                        reason: format!(
                            "document deeper than {MAX_DEPTH} or larger than {MAX_ELEMENTS} elements"
                        ),
                    });
                }
                stack.push(Node {
                    name: start.local_name().as_ref().to_string(),
                    ..Node::default()
                });
            }
            Event::Empty(start) => {
                elements += 1;
                let node = Node {
                    name: start.local_name().as_ref().to_string(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                // The reader checks that end names match their start tags.
                let node = stack
                    .pop()
                    .ok_or_else(|| not_xml(&reader, "end tag without start".to_string()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => {
                        return Err(not_xml(
                            &reader,
                            "text outside the root element".to_string(),
                        ));
                    }
                }
            }
            Event::CData(data) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&data);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| ResponseError::Refused {
                            reason: format!("unknown entity &{};", &*reference),
                        })?
                        .to_string(),
                    Err(error) => return Err(not_xml(&reader, error.to_string())),
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => {
                return Err(ResponseError::Refused {
                    reason: "a DOCTYPE in a response".to_string(),
                });
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(not_xml(
            &reader,
            format!("document ends inside <{}>", stack[stack.len() - 1].name),
        ));
    }
    root.ok_or(ResponseError::Empty)
}
