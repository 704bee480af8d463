//! IAM as AWS judges it, for tests that run stockwatch's AWS paths under
//! the policies deploy/template.yaml writes.
//!
//! moto (with its IAM switch on) judges actions, but checks DynamoDB, SNS
//! and CloudFormation requests against the resource `*` and S3 requests
//! under its own action names: a policy scoped to ARNs, as the template's
//! are, would allow nothing there. So each user gets two copies of its
//! policy: moto holds one with moto's action names and `*` as resource
//! (moto judges the action), and a proxy in front of moto holds the
//! template's own, rendered with the real ARNs: it maps every request to
//! the IAM actions and resource ARNs AWS would judge it as, evaluates
//! them, answers a denied one as AWS does (`AccessDenied…`, naming action
//! and resource), and records every call for the test to read.

#![allow(dead_code)]

use serde_json::{Map, Value, json};
use serde_yaml_ng::Value as Yaml;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

// ---------------------------------------------------------------- policies

/// One statement: Allow or Deny, its actions and resources (IAM patterns).
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Policy {
    /// A policy document (JSON, as rendered).
    pub fn from_document(document: &Value) -> Policy {
        let list = |v: &Value| match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        };
        let statements = match &document["Statement"] {
            Value::Array(all) => all.clone(),
            one @ Value::Object(_) => vec![one.clone()],
            _ => Vec::new(),
        };
        Policy {
            statements: statements
                .iter()
                .map(|s| Statement {
                    sid: s["Sid"].as_str().unwrap_or("").to_string(),
                    allow: s["Effect"] == "Allow",
                    actions: list(&s["Action"]),
                    resources: list(&s["Resource"]),
                })
                .collect(),
        }
    }

    /// Whether `action` on `resource` is allowed: no Deny matches and some
    /// Allow does (actions case-insensitively).
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let hit = |s: &Statement| {
            s.actions
                .iter()
                .any(|a| matches(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && s.resources.iter().any(|r| matches(r, resource))
        };
        !self.statements.iter().any(|s| !s.allow && hit(s)) && self.statements.iter().any(|s| s.allow && hit(s))
    }

    /// Every (statement, action) this policy allows, for "granted but unused".
    pub fn granted(&self) -> Vec<(String, String, Vec<String>)> {
        self.statements
            .iter()
            .filter(|s| s.allow)
            .flat_map(|s| {
                s.actions
                    .iter()
                    .map(move |a| (s.sid.clone(), a.clone(), s.resources.clone()))
            })
            .collect()
    }

    /// The copy moto holds: moto's names for the same actions, on `*`.
    pub fn for_moto(&self) -> Value {
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut actions: Vec<String> = Vec::new();
                for a in &s.actions {
                    actions.push(a.clone());
                    actions.extend(moto_names(a).iter().map(|m| m.to_string()));
                }
                json!({"Effect": if s.allow { "Allow" } else { "Deny" }, "Action": actions, "Resource": "*"})
            })
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}

/// The operation names moto checks where AWS checks `action`.
fn moto_names(action: &str) -> &'static [&'static str] {
    match action {
        "s3:GetObject" => &["s3:HeadObject"],
        "s3:ListBucket" => &["s3:ListObjectsV2", "s3:ListObjects"],
        "s3:PutObject" => &[
            "s3:CreateMultipartUpload",
            "s3:UploadPart",
            "s3:CompleteMultipartUpload",
        ],
        "s3:ListBucketMultipartUploads" => &["s3:ListMultipartUploads"],
        "sns:Publish" => &["sns:PublishBatch"],
        "dynamodb:PutItem" | "dynamodb:UpdateItem" => &["dynamodb:TransactWriteItems"],
        "sqs:DeleteMessage" => &["sqs:DeleteMessageBatch"],
        "sqs:SendMessage" => &["sqs:SendMessageBatch"],
        "sqs:ChangeMessageVisibility" => &["sqs:ChangeMessageVisibilityBatch"],
        _ => &[],
    }
}

// ---------------------------------------------------------------- template

/// What the template's references stand for in one deployment.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// Logical id → what `!Ref` gives.
    pub refs: HashMap<String, String>,
    /// `Logical.Attribute` → what `!GetAtt` gives.
    pub attrs: HashMap<String, String>,
    pub conditions: HashMap<String, bool>,
    pub stack_name: String,
    pub stack_id: String,
}

impl Deployment {
    fn reference(&self, name: &str) -> Option<Value> {
        let pseudo = match name {
            "AWS::Partition" => Some("aws".to_string()),
            "AWS::Region" => Some(REGION.to_string()),
            "AWS::AccountId" => Some(ACCOUNT.to_string()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::StackId" => Some(self.stack_id.clone()),
            "AWS::NoValue" => return None,
            _ => None,
        };
        let value = pseudo
            .or_else(|| self.refs.get(name).cloned())
            .or_else(|| self.attrs.get(name).cloned())
            .unwrap_or_else(|| panic!("the template refers to {name}, which this deployment does not name"));
        Some(Value::String(value))
    }
}

pub fn template() -> Yaml {
    let path = crate::repo().join("deploy/template.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A part of the template with its intrinsic functions worked out;
/// `None` for `AWS::NoValue` (dropped from lists and maps).
pub fn render(node: &Yaml, d: &Deployment) -> Option<Value> {
    Some(match node {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(items.iter().filter_map(|i| render(i, d)).collect()),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if let (Some(key), Some(value)) = (k.as_str(), render(v, d)) {
                    out.insert(key.to_string(), value);
                }
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let arg = &tagged.value;
            let text = |v: &Yaml| {
                render(v, d)
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            };
            let args = || match arg {
                Yaml::Sequence(items) => items.clone(),
                other => vec![other.clone()],
            };
            match tag.trim_start_matches('!') {
                "Ref" => return d.reference(arg.as_str().unwrap()),
                "GetAtt" => {
                    let name = match arg {
                        Yaml::String(s) => s.clone(),
                        Yaml::Sequence(parts) => format!("{}.{}", text(&parts[0]), text(&parts[1])),
                        _ => panic!("!GetAtt {arg:?}"),
                    };
                    return d.reference(&name);
                }
                "Sub" => {
                    let (format, vars) = match arg {
                        Yaml::String(s) => (s.clone(), HashMap::new()),
                        Yaml::Sequence(parts) => {
                            let vars: HashMap<String, String> = parts[1]
                                .as_mapping()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.as_str().unwrap().to_string(), text(v)))
                                .collect();
                            (parts[0].as_str().unwrap().to_string(), vars)
                        }
                        _ => panic!("!Sub {arg:?}"),
                    };
                    Value::String(substitute(&format, &vars, d))
                }
                "Select" => {
                    let parts = args();
                    let index = render(&parts[0], d).unwrap();
                    let index = index.as_u64().or_else(|| index.as_str()?.parse().ok()).unwrap() as usize;
                    render(&parts[1], d).unwrap()[index].clone()
                }
                "Split" => {
                    let parts = args();
                    let (delimiter, whole) = (text(&parts[0]), text(&parts[1]));
                    Value::Array(whole.split(&delimiter).map(|p| Value::String(p.into())).collect())
                }
                "Join" => {
                    let parts = args();
                    let delimiter = text(&parts[0]);
                    let items = render(&parts[1], d).unwrap();
                    let joined: Vec<String> = items
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i.as_str().unwrap().to_string())
                        .collect();
                    Value::String(joined.join(&delimiter))
                }
                "If" => {
                    let parts = args();
                    let condition = parts[0].as_str().unwrap();
                    let holds = *d.conditions.get(condition).unwrap_or(&false);
                    return render(&parts[if holds { 1 } else { 2 }], d);
                }
                "Equals" | "Not" | "Condition" => Value::Null,
                other => panic!("the template uses !{other}, which this renderer does not know"),
            }
        }
    })
}

/// `${Name}` and `${Logical.Attr}` in a `!Sub` string.
fn substitute(format: &str, vars: &HashMap<String, String>, d: &Deployment) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 2..end];
        let value = match vars.get(name) {
            Some(v) => v.clone(),
            None => d
                .reference(name)
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The policy documents of the template's roles and managed policies, by
/// logical id (a role's inline policies joined into one).
pub fn policies(d: &Deployment) -> HashMap<String, Policy> {
    let template = template();
    let mut found = HashMap::new();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let name = name.as_str().unwrap().to_string();
        let properties = &resource["Properties"];
        let documents: Vec<Value> = match resource["Type"].as_str() {
            Some("AWS::IAM::Role") => properties["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|p| render(&p["PolicyDocument"], d))
                .collect(),
            Some("AWS::IAM::ManagedPolicy") => render(&properties["PolicyDocument"], d).into_iter().collect(),
            _ => continue,
        };
        let mut policy = Policy::default();
        for document in &documents {
            policy.statements.extend(Policy::from_document(document).statements);
        }
        found.insert(name, policy);
    }
    found
}

// ---------------------------------------------------------------- requests

/// One HTTP request as the proxy read it.
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// The access key and service of the request's signature.
    pub fn signer(&self) -> (String, String) {
        let auth = self.header("authorization");
        let scope = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split([',', ' ']).next())
            .unwrap_or("");
        let parts: Vec<&str> = scope.split('/').collect();
        (
            parts.first().unwrap_or(&"").to_string(),
            parts.get(3).unwrap_or(&"").to_string(),
        )
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn form(&self) -> HashMap<String, String> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect()
    }
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn table_arn(table: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}")
}

fn queue_arn(url_or_name: &str) -> String {
    let name = url_or_name.rsplit('/').next().unwrap_or(url_or_name);
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}

/// The protocol a request speaks, for answering a denial in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    Query,
    S3,
}

/// What AWS would judge a request as: (action, resource ARN) pairs.
/// `streams` maps shard iterators to their stream's ARN (GetRecords names
/// only an iterator); `stacks` maps stack names to their ids.
pub fn calls_of(
    request: &Request,
    streams: &HashMap<String, String>,
    stacks: &HashMap<String, String>,
) -> (Protocol, String, Vec<(String, String)>) {
    let target = request.header("x-amz-target").to_string();
    if let Some((prefix, op)) = target.split_once('.') {
        let body = request.json();
        let one = |action: &str, resource: String| vec![(action.to_string(), resource)];
        let calls = match prefix {
            p if p.starts_with("DynamoDBStreams") => {
                let resource = match op {
                    "GetRecords" => streams
                        .get(body["ShardIterator"].as_str().unwrap_or(""))
                        .cloned()
                        .unwrap_or_else(|| "an unknown stream".into()),
                    "ListStreams" => match body["TableName"].as_str() {
                        Some(t) => format!("{}/stream/*", table_arn(t)),
                        None => "*".into(),
                    },
                    _ => body["StreamArn"].as_str().unwrap_or("*").to_string(),
                };
                one(&format!("dynamodb:{op}"), resource)
            }
            p if p.starts_with("DynamoDB") => match op {
                "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
                    .as_object()
                    .map(|tables| {
                        tables
                            .keys()
                            .map(|t| (format!("dynamodb:{op}"), table_arn(t)))
                            .collect()
                    })
                    .unwrap_or_default(),
                "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|item| {
                        let (kind, inner) = item.as_object()?.iter().next()?;
                        let action = match kind.as_str() {
                            "Put" => "PutItem",
                            "Update" => "UpdateItem",
                            "Delete" => "DeleteItem",
                            "ConditionCheck" => "ConditionCheckItem",
                            _ => "GetItem",
                        };
                        Some((format!("dynamodb:{action}"), table_arn(inner["TableName"].as_str()?)))
                    })
                    .collect(),
                "ListTables" => one("dynamodb:ListTables", "*".into()),
                _ => {
                    let table = table_arn(body["TableName"].as_str().unwrap_or(""));
                    let resource = match body["IndexName"].as_str() {
                        Some(index) => format!("{table}/index/{index}"),
                        None => table,
                    };
                    one(&format!("dynamodb:{op}"), resource)
                }
            },
            p if p.starts_with("AmazonSQS") => {
                let resource = match op {
                    "ListQueues" => "*".to_string(),
                    "CreateQueue" | "GetQueueUrl" => queue_arn(body["QueueName"].as_str().unwrap_or("")),
                    _ => queue_arn(body["QueueUrl"].as_str().unwrap_or("")),
                };
                // A batch is authorized as the single action it repeats.
                let action = match op {
                    "DeleteMessageBatch" => "DeleteMessage",
                    "SendMessageBatch" => "SendMessage",
                    "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
                    op => op,
                };
                one(&format!("sqs:{action}"), resource)
            }
            other => one(&format!("{other}:{op}"), "*".into()),
        };
        return (Protocol::Json, op.to_string(), calls);
    }
    let (_, service) = request.signer();
    match service.as_str() {
        "sns" | "cloudformation" | "sts" | "iam" => {
            let form = request.form();
            let op = form.get("Action").cloned().unwrap_or_default();
            let field = |name: &str| form.get(name).cloned().unwrap_or_else(|| "*".into());
            let (action, resource) = match (service.as_str(), op.as_str()) {
                ("sns", "Publish") => (
                    "sns:Publish".into(),
                    form.get("TopicArn").cloned().unwrap_or(field("TargetArn")),
                ),
                ("sns", "PublishBatch") => ("sns:Publish".into(), field("TopicArn")),
                ("sns", "Unsubscribe") => ("sns:Unsubscribe".into(), field("SubscriptionArn")),
                ("sns", "CreateTopic") => (
                    "sns:CreateTopic".into(),
                    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{}", field("Name")),
                ),
                ("sns", op) => (format!("sns:{op}"), field("TopicArn")),
                ("cloudformation", op) => {
                    let name = field("StackName");
                    (
                        format!("cloudformation:{op}"),
                        stacks.get(&name).cloned().unwrap_or(name),
                    )
                }
                (service, op) => (format!("{service}:{op}"), "*".into()),
            };
            (Protocol::Query, op, vec![(action, resource)])
        }
        _ => {
            // S3, by path: /bucket or /bucket/key, with the operation in
            // the method and the query.
            let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
            let flags: Vec<&str> = query.split('&').map(|p| p.split('=').next().unwrap_or("")).collect();
            let has = |flag: &str| flags.contains(&flag);
            let path = decode(path.trim_start_matches('/'));
            let (bucket, key) = path.split_once('/').unwrap_or((&path, ""));
            let bucket_arn = format!("arn:aws:s3:::{bucket}");
            let object_arn = format!("{bucket_arn}/{key}");
            let method = request.method.as_str();
            let (op, action, resource) = if key.is_empty() {
                match method {
                    "GET" if has("uploads") => ("ListMultipartUploads", "s3:ListBucketMultipartUploads", bucket_arn),
                    "GET" if has("location") => ("GetBucketLocation", "s3:GetBucketLocation", bucket_arn),
                    "GET" | "HEAD" => ("ListObjects", "s3:ListBucket", bucket_arn),
                    "PUT" => ("CreateBucket", "s3:CreateBucket", bucket_arn),
                    _ => ("BucketOperation", "s3:UnknownBucketOperation", bucket_arn),
                }
            } else {
                match method {
                    "GET" | "HEAD" if has("uploadId") => ("ListParts", "s3:ListMultipartUploadParts", object_arn),
                    "GET" if has("tagging") => ("GetObjectTagging", "s3:GetObjectTagging", object_arn),
                    "GET" | "HEAD" => ("GetObject", "s3:GetObject", object_arn),
                    "PUT" if has("tagging") => ("PutObjectTagging", "s3:PutObjectTagging", object_arn),
                    "PUT" | "POST" => ("PutObject", "s3:PutObject", object_arn),
                    "DELETE" if has("uploadId") => ("AbortMultipartUpload", "s3:AbortMultipartUpload", object_arn),
                    "DELETE" => ("DeleteObject", "s3:DeleteObject", object_arn),
                    _ => ("ObjectOperation", "s3:UnknownObjectOperation", object_arn),
                }
            };
            (Protocol::S3, op.into(), vec![(action.into(), resource)])
        }
    }
}

// ---------------------------------------------------------------- the proxy

/// One judged call.
#[derive(Debug, Clone)]
pub struct Judged {
    pub user: String,
    pub operation: String,
    pub action: String,
    pub resource: String,
    pub allowed: bool,
}

#[derive(Default)]
struct State {
    /// access key → (user, the template's policy; None: not judged, an admin)
    users: HashMap<String, (String, Option<Policy>)>,
    /// access key → secret, to sign form bodies again (`resign`).
    secrets: HashMap<String, String>,
    streams: HashMap<String, String>,
    stacks: HashMap<String, String>,
    judged: Vec<Judged>,
}

#[derive(Clone)]
pub struct IamProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl IamProxy {
    /// Requests signed with `keys` are judged against `policy` as `user`
    /// (`None`: passed on unjudged).
    pub fn judge(&self, keys: &(String, String), user: &str, policy: Option<Policy>) {
        let mut state = self.state.lock().unwrap();
        state.users.insert(keys.0.clone(), (user.to_string(), policy));
        state.secrets.insert(keys.0.clone(), keys.1.clone());
    }

    pub fn name_stack(&self, name: &str, id: &str) {
        self.state.lock().unwrap().stacks.insert(name.into(), id.into());
    }

    /// Every judged call of `user` so far.
    pub fn calls_of(&self, user: &str) -> Vec<Judged> {
        self.state
            .lock()
            .unwrap()
            .judged
            .iter()
            .filter(|j| j.user == user)
            .cloned()
            .collect()
    }

    /// `user`'s denied calls, one line each (action on resource, by operation).
    pub fn denied(&self, user: &str) -> Vec<String> {
        let mut lines: Vec<String> = self
            .calls_of(user)
            .iter()
            .filter(|j| !j.allowed)
            .map(|j| format!("{} on {} ({})", j.action, j.resource, j.operation))
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }
}

pub fn proxy(upstream: &str) -> IamProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let state: Arc<Mutex<State>> = Arc::default();
    let shared = state.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, state) = (upstream.clone(), shared.clone());
            std::thread::spawn(move || {
                let _ = serve(client, &upstream, &state);
            });
        }
    });
    IamProxy { url, state }
}

/// Reads a request (Content-Length or chunked), keeping its raw head.
fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<(Request, Vec<u8>)>> {
    let mut head = Vec::new();
    let mut first = String::new();
    if reader.read_line(&mut first)? == 0 {
        return Ok(None);
    }
    head.extend_from_slice(first.as_bytes());
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "connection" {
                continue;
            }
            headers.insert(name, value.trim().to_string());
        }
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = Vec::new();
    if headers.get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        // Forwarded as it came: the chunk framing stays in the body.
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            body.extend_from_slice(size.as_bytes());
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            if n == 0 {
                break;
            }
        }
    } else {
        let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    let mut parts = first.split_whitespace();
    let request = Request {
        method: parts.next().unwrap_or("").to_string(),
        path: parts.next().unwrap_or("").to_string(),
        headers,
        body,
    };
    Ok(Some((request, head)))
}

fn serve(client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some((request, head)) = read_request(&mut reader)? else {
        return Ok(());
    };
    let (key, _) = request.signer();
    let verdict = {
        let mut state = state.lock().unwrap();
        let (protocol, operation, calls) = calls_of(&request, &state.streams, &state.stacks);
        match state.users.get(&key).cloned() {
            Some((user, Some(policy))) => {
                let mut denied = None;
                for (action, resource) in calls {
                    let allowed = policy.allows(&action, &resource);
                    if !allowed && denied.is_none() {
                        denied = Some((user.clone(), action.clone(), resource.clone()));
                    }
                    state.judged.push(Judged {
                        user: user.clone(),
                        operation: operation.clone(),
                        action,
                        resource,
                        allowed,
                    });
                }
                denied.map(|d| (protocol, d))
            }
            _ => None,
        }
    };
    let mut client = client;
    if let Some((protocol, (user, action, resource))) = verdict {
        client.write_all(&denial(protocol, &user, &action, &resource))?;
        return client.flush();
    }
    let secret = state.lock().unwrap().secrets.get(&key).cloned();
    let (head, body) = match secret {
        Some(secret) if matches!(request.signer().1.as_str(), "sns" | "cloudformation") => {
            resign(&request, &key, &secret)
        }
        _ => (head, request.body.clone()),
    };
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(&head)?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    learn_iterators(&request, &answer, state);
    client.write_all(&answer)?;
    client.flush()
}

/// A form-encoded request encoded as Python's `urlencode` does and signed
/// again. moto checks a form request's signature over the form it parsed,
/// encoded again by botocore (spaces as `+`), not over the bytes sent: the
/// SDK's `%20` then never matches. Same parameters, same key, same meaning.
fn resign(request: &Request, key: &str, secret: &str) -> (Vec<u8>, Vec<u8>) {
    let plus = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let body: String = String::from_utf8_lossy(&request.body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| format!("{}={}", plus(&decode(k)), plus(&decode(v))))
        .collect::<Vec<_>>()
        .join("&");
    let (_, service) = request.signer();
    let host = request.header("host").to_string();
    let content_type = request.header("content-type").to_string();
    let headers = [("host", host.as_str()), ("content-type", content_type.as_str())];
    let credentials = aws_sdk_dynamodb::config::Credentials::new(key, secret, None, None, "iam-proxy");
    let identity = aws_smithy_runtime_api::client::identity::Identity::from(credentials);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(&service)
        .time(std::time::SystemTime::now())
        .settings(aws_sigv4::http_request::SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = aws_sigv4::http_request::SignableRequest::new(
        &request.method,
        format!("http://{host}{}", request.path),
        headers.iter().copied(),
        aws_sigv4::http_request::SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params).unwrap().into_parts();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        request.method,
        request.path,
        body.len()
    );
    for (name, value) in instructions.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    (head.into_bytes(), body.into_bytes())
}

/// Shard iterators name no stream: remember whose they are.
fn learn_iterators(request: &Request, answer: &[u8], state: &Mutex<State>) {
    let target = request.header("x-amz-target");
    let body = request.json();
    let stream = match target.rsplit('.').next() {
        Some("GetShardIterator") => body["StreamArn"].as_str().map(String::from),
        Some("GetRecords") => state
            .lock()
            .unwrap()
            .streams
            .get(body["ShardIterator"].as_str().unwrap_or(""))
            .cloned(),
        _ => None,
    };
    let Some(stream) = stream else { return };
    let Some(start) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let reply: Value = serde_json::from_slice(&answer[start + 4..]).unwrap_or(Value::Null);
    for field in ["ShardIterator", "NextShardIterator"] {
        if let Some(it) = reply[field].as_str() {
            state.lock().unwrap().streams.insert(it.to_string(), stream.clone());
        }
    }
}

/// AWS's answer to a denied call, in the request's protocol.
fn denial(protocol: Protocol, user: &str, action: &str, resource: &str) -> Vec<u8> {
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on resource: {resource} \
         because no identity-based policy allows the {action} action"
    );
    let (status, kind, body) = match protocol {
        Protocol::Json => {
            let code = if action.starts_with("sqs:") {
                "com.amazonaws.sqs#AccessDenied"
            } else {
                "com.amazon.coral.service#AccessDeniedException"
            };
            (
                "400 Bad Request",
                "application/x-amz-json-1.0",
                json!({"__type": code, "message": message}).to_string(),
            )
        }
        Protocol::Query => {
            let code = if action.starts_with("sns:") {
                "AuthorizationError"
            } else {
                "AccessDenied"
            };
            (
                "403 Forbidden",
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>iam-proxy</RequestId></ErrorResponse>"
                ),
            )
        }
        Protocol::S3 => (
            "403 Forbidden",
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{message}</Message><RequestId>iam-proxy</RequestId></Error>"
            ),
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nx-amzn-RequestId: iam-proxy\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// ---------------------------------------------------------------- IAM on moto

/// A request to moto's IAM API (form-encoded), signed as `key` would be
/// (moto checks signatures only once its IAM switch is on).
pub fn iam_call(moto: &str, params: &[(&str, &str)]) -> String {
    let body: String = params
        .iter()
        .chain([("Version", "2010-05-08")].iter())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    http(
        moto,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x",
            ),
        ],
        &body,
    )
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A plain HTTP request; the answer's body.
pub fn http(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (status, rest) = answer.split_once("\r\n").unwrap_or(("", ""));
    assert!(status.contains(" 200 "), "{method} {path} {body}: {answer}");
    rest.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// A user holding `policy` (moto's copy) and its keys: (key id, secret).
pub fn create_user(moto: &str, name: &str, policy: &Value) -> (String, String) {
    iam_call(moto, &[("Action", "CreateUser"), ("UserName", name)]);
    iam_call(
        moto,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "template"),
            ("PolicyDocument", &policy.to_string()),
        ],
    );
    let answer = iam_call(moto, &[("Action", "CreateAccessKey"), ("UserName", name)]);
    let field = |tag: &str| {
        let start = answer.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
        let end = answer[start..].find('<').unwrap() + start;
        answer[start..end].to_string()
    };
    (field("AccessKeyId"), field("SecretAccessKey"))
}

/// moto judges every request from now on.
pub fn enforce(moto: &str) {
    http(
        moto,
        "POST",
        "/moto-api/reset-auth",
        &[("Content-Type", "text/plain")],
        "0",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(matches(
            "arn:aws:sqs:*:*:stack-f-*",
            "arn:aws:sqs:us-east-1:1:stack-f-abc"
        ));
        assert!(!matches(
            "arn:aws:sqs:*:*:stack-f-*",
            "arn:aws:sqs:us-east-1:1:other-f-abc"
        ));
        assert!(matches("dynamodb:Get?tem", "dynamodb:GetItem"));
        assert!(matches("*", "anything"));
        assert!(!matches("arn:table/T", "arn:table/T/index/I"));
    }
}
