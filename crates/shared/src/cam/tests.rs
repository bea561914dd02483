//! Evaluation as tables (`check(policy, request, expected)`), the upload
//! policies' exact JSON and decisions, and properties: an upload policy never
//! allows another key, another action, a larger size or another content type.

use proptest::prelude::*;

use super::*;
use crate::{DirPath, ObjectKey};
use Decision::{Allow, ExplicitDeny, NotAllowed};

const R: &str = "qcs::cos:ap-guangzhou:uid/1250000000:metis-1250000000";

fn bucket() -> Bucket {
    Bucket::new("ap-guangzhou", "1250000000", "metis").unwrap()
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

fn put(k: &str) -> RequestContext {
    RequestContext::object(Action::PutObject, &bucket(), &key(k))
}

/// A policy of one statement.
fn one(effect: &str, action: &str, resource: &str, condition: &str) -> String {
    format!(
        r#"{{"version":"2.0","statement":[{{"effect":"{effect}","action":{action},"resource":{resource},"condition":{condition}}}]}}"#
    )
}

fn check(policy: &str, req: &RequestContext, expected: Decision) {
    let p = Policy::from_json(policy).unwrap_or_else(|e| panic!("{policy}: {e}"));
    assert_eq!(p.evaluate(req), expected, "{policy}\n{req:?}");
}

#[test]
fn nothing_is_allowed_by_default() {
    check(
        r#"{"version":"2.0","statement":[]}"#,
        &put("a.jpg"),
        NotAllowed,
    );
    let q = |s: &str| format!("\"{s}\"");
    check(
        &one("deny", &q("*"), &q("*"), "{}"),
        &put("a.jpg"),
        ExplicitDeny,
    );
    check(
        &one("allow", "[]", &q("*"), "{}"),
        &put("a.jpg"),
        NotAllowed,
    );
    check(
        &one("allow", &q("*"), "[]", "{}"),
        &put("a.jpg"),
        NotAllowed,
    );
}

#[test]
fn actions_match_exactly_or_by_a_trailing_star() {
    let res = format!(r#""{R}/*""#);
    for (action, expected) in [
        (r#""name/cos:PutObject""#, Allow),
        (r#"["name/cos:GetObject","name/cos:PutObject"]"#, Allow),
        (r#""*""#, Allow),
        (r#""name/cos:*""#, Allow),
        (r#""name/cos:Put*""#, Allow),
        (r#""name/cos:Post*""#, NotAllowed),
        (r#""name/cos:putobject""#, NotAllowed),
        (r#""cos:PutObject""#, NotAllowed),
        (r#""name/cos:PutObjec""#, NotAllowed),
        (r#""name/cos:PutObject*""#, Allow),
        (r#""name/cam:*""#, NotAllowed),
    ] {
        check(
            &one("allow", action, &res, "{}"),
            &put("u/12/a.jpg"),
            expected,
        );
    }
}

#[test]
fn resources_match_exactly_or_by_a_trailing_star() {
    for (resource, k, expected) in [
        (format!("{R}/u/12/a.jpg"), "u/12/a.jpg", Allow),
        (format!("{R}/u/12/a.jpg"), "u/12/a.jpgx", NotAllowed),
        (format!("{R}/u/12/a.jpg"), "u/12/a.jp", NotAllowed),
        (format!("{R}/u/12/*"), "u/12/a.jpg", Allow),
        (format!("{R}/u/12/*"), "u/12/x/y/z.jpg", Allow),
        (format!("{R}/u/12/*"), "u/123/a.jpg", NotAllowed),
        (format!("{R}/u/12/*"), "u/1/a.jpg", NotAllowed),
        (format!("{R}/*"), "a.jpg", Allow),
        ("*".to_owned(), "a.jpg", Allow),
        // Another bucket, APPID or region.
        (
            "qcs::cos:ap-guangzhou:uid/1250000000:other-1250000000/*".to_owned(),
            "a.jpg",
            NotAllowed,
        ),
        (
            "qcs::cos:ap-guangzhou:uid/1250000001:metis-1250000001/*".to_owned(),
            "a.jpg",
            NotAllowed,
        ),
        (
            "qcs::cos:ap-shanghai:uid/1250000000:metis-1250000000/*".to_owned(),
            "a.jpg",
            NotAllowed,
        ),
        // A `*` that is not last is a literal character.
        (format!("{R}/u/*/a.jpg"), "u/12/a.jpg", NotAllowed),
        // The legacy form qcloud-cos-sts writes.
        (
            "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/metis/u/12/*".to_owned(),
            "u/12/a.jpg",
            Allow,
        ),
        (
            "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/metis/u/12/*".to_owned(),
            "u/123/a.jpg",
            NotAllowed,
        ),
        (
            "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/other/*".to_owned(),
            "a.jpg",
            NotAllowed,
        ),
        (
            "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/metis".to_owned(),
            "a.jpg",
            NotAllowed,
        ),
    ] {
        let res = format!(r#"["{resource}"]"#);
        check(
            &one("allow", r#""name/cos:PutObject""#, &res, "{}"),
            &put(k),
            expected,
        );
    }
}

#[test]
fn an_explicit_deny_wins() {
    let allow = format!(r#"{{"effect":"allow","action":"*","resource":"{R}/*"}}"#);
    let deny = format!(
        r#"{{"effect":"deny","action":"name/cos:PutObject","resource":"{R}/u/12/secret/*"}}"#
    );
    for statements in [format!("{allow},{deny}"), format!("{deny},{allow}")] {
        let policy = format!(r#"{{"version":"2.0","statement":[{statements}]}}"#);
        check(&policy, &put("u/12/secret/a.jpg"), ExplicitDeny);
        check(&policy, &put("u/12/public/a.jpg"), Allow);
        let get = RequestContext::object(Action::GetObject, &bucket(), &key("u/12/secret/a.jpg"));
        check(&policy, &get, Allow);
    }
}

fn with_condition(effect: &str, condition: &str) -> String {
    one(
        effect,
        r#""name/cos:PutObject""#,
        &format!(r#""{R}/*""#),
        condition,
    )
}

/// `{"<operator>":{"<key>":<value>}}`.
fn cond(operator: &str, key: &str, value: &str) -> String {
    format!(r#"{{"{operator}":{{"{key}":{value}}}}}"#)
}

const LENGTH: &str = "cos:content-length";
const TYPE: &str = "cos:content-type";

#[test]
fn numeric_conditions_compare_u64() {
    let sized = |n| put("a.jpg").with_content_length(n);
    let le = "numeric_less_than_equal";
    for (operator, key, value, req, expected) in [
        (le, LENGTH, "100", sized(100), Allow),
        (le, LENGTH, "100", sized(0), Allow),
        (le, LENGTH, "100", sized(101), NotAllowed),
        (le, LENGTH, "100", sized(u64::MAX), NotAllowed),
        // A request without the key fails the condition, unless `_if_exist`.
        (le, LENGTH, "100", put("a.jpg"), NotAllowed),
        (
            "numeric_less_than_equal_if_exist",
            LENGTH,
            "100",
            put("a.jpg"),
            Allow,
        ),
        (
            "numeric_less_than_equal_if_exist",
            LENGTH,
            "100",
            sized(101),
            NotAllowed,
        ),
        // Digits in a string are a number.
        (le, LENGTH, r#""100""#, sized(100), Allow),
        (le, LENGTH, "18446744073709551615", sized(u64::MAX), Allow),
        ("numeric_less_than", LENGTH, "100", sized(100), NotAllowed),
        ("numeric_less_than", LENGTH, "100", sized(99), Allow),
        ("numeric_greater_than", LENGTH, "100", sized(101), Allow),
        (
            "numeric_greater_than",
            LENGTH,
            "100",
            sized(100),
            NotAllowed,
        ),
        (
            "numeric_greater_than_equal",
            LENGTH,
            "100",
            sized(100),
            Allow,
        ),
        ("numeric_equal", LENGTH, "[1,100]", sized(100), Allow),
        ("numeric_equal", LENGTH, "[1,100]", sized(2), NotAllowed),
        ("numeric_not_equal", LENGTH, "[1,100]", sized(2), Allow),
        ("numeric_not_equal", LENGTH, "[1,100]", sized(1), NotAllowed),
        // Values that are no u64 are not understood: the allow does not apply.
        (le, LENGTH, "-1", sized(0), NotAllowed),
        (le, LENGTH, "1.5", sized(1), NotAllowed),
        (le, LENGTH, r#""1e3""#, sized(1), NotAllowed),
        (le, LENGTH, "[]", sized(1), NotAllowed),
        (le, LENGTH, "true", sized(1), NotAllowed),
        // A string comparison on a number key, and the other way round.
        ("string_equal", LENGTH, r#""1""#, sized(1), NotAllowed),
        (
            "numeric_equal",
            TYPE,
            "1",
            put("a.jpg").with_content_type("1"),
            NotAllowed,
        ),
    ] {
        let condition = cond(operator, key, value);
        check(&with_condition("allow", &condition), &req, expected);
    }
}

#[test]
fn string_conditions_compare_exactly_or_by_glob() {
    let typed = |t: &str| put("a.jpg").with_content_type(t);
    let like = "string_like";
    let media = r#"["image/*","video/mp4"]"#;
    for (operator, value, req, expected) in [
        (like, media, typed("image/jpeg"), Allow),
        (like, media, typed("video/mp4"), Allow),
        (like, media, typed("video/mp4x"), NotAllowed),
        (like, media, typed("Image/jpeg"), NotAllowed),
        (like, media, typed("text/html"), NotAllowed),
        (like, media, typed(""), NotAllowed),
        (like, media, put("a.jpg"), NotAllowed),
        ("string_like_if_exist", r#""image/*""#, put("a.jpg"), Allow),
        (like, r#""image/jp?g""#, typed("image/jpeg"), Allow),
        (
            "string_equal",
            r#""image/*""#,
            typed("image/jpeg"),
            NotAllowed,
        ),
        ("string_equal", r#""image/*""#, typed("image/*"), Allow),
        ("string_not_equal", r#"["a/b","c/d"]"#, typed("e/f"), Allow),
        (
            "string_not_equal",
            r#"["a/b","c/d"]"#,
            typed("c/d"),
            NotAllowed,
        ),
        (
            "string_not_like",
            r#""text/*""#,
            typed("text/html"),
            NotAllowed,
        ),
        ("string_not_like", r#""text/*""#, typed("image/png"), Allow),
        // A number where a string belongs is not understood.
        ("string_equal", "1", typed("1"), NotAllowed),
    ] {
        let condition = cond(operator, TYPE, value);
        check(&with_condition("allow", &condition), &req, expected);
    }
    // Every condition must hold.
    let both = r#"{"string_like":{"cos:content-type":"image/*"},"numeric_less_than_equal":{"cos:content-length":5}}"#;
    let png = typed("image/png");
    check(
        &with_condition("allow", both),
        &png.clone().with_content_length(6),
        NotAllowed,
    );
    check(
        &with_condition("allow", both),
        &png.with_content_length(5),
        Allow,
    );
}

#[test]
fn list_prefixes_compare_url_encoded() {
    let list = |p: &str| RequestContext::listing(Action::GetBucket, &bucket(), p);
    let policy = |value: &str| {
        one(
            "allow",
            r#""name/cos:GetBucket""#,
            &format!(r#""{R}/*""#),
            &format!(r#"{{"string_like":{{"cos:prefix":"{value}"}}}}"#),
        )
    };
    check(&policy("u%2F12%2F*"), &list("u/12/"), Allow);
    check(&policy("u%2F12%2F*"), &list("u/12/photos/a b"), Allow);
    check(&policy("u%2F12%2F*"), &list("u/123/"), NotAllowed);
    check(&policy("u%2F12%2F*"), &list("u/12"), NotAllowed);
    check(&policy("u%2F12%2F*"), &list(""), NotAllowed);
    // Written unencoded, a value with `/` matches no prefix.
    check(&policy("u/12/*"), &list("u/12/"), NotAllowed);
    check(&policy("%E6%B5%8B%20*"), &list("测 x"), Allow);
    // Object requests have no cos:prefix.
    let get_bucket_as_object = RequestContext::object(Action::GetBucket, &bucket(), &key("u/12/a"));
    check(&policy("*"), &get_bucket_as_object, NotAllowed);
    check(
        &one(
            "allow",
            r#""name/cos:GetBucket""#,
            &format!(r#""{R}/*""#),
            r#"{"string_like_if_exist":{"cos:prefix":"x*"}}"#,
        ),
        &get_bucket_as_object,
        Allow,
    );
}

#[test]
fn what_is_not_understood_fails_closed() {
    let sized = put("a.jpg")
        .with_content_length(1)
        .with_content_type("image/png");
    for condition in [
        r#"{"ip_equal":{"qcs:ip":"10.0.0.0/8"}}"#,
        r#"{"string_equal":{"qcs:ip":"10.0.0.1"}}"#,
        r#"{"string_equal":{"cos:x-cos-acl":"private"}}"#,
        r#"{"bool_equal":{"cos:secure-transport":true}}"#,
        r#"{"date_less_than":{"qcs:current_time":"2030-01-01T00:00:00Z"}}"#,
        r#"{"numeric_less_than_equal":{"cos:content-length":-1}}"#,
        r#"{"string_like":{"cos:content-type":[]}}"#,
        r#"{"Numeric_Less_Than_Equal":{"cos:content-length":10}}"#,
    ] {
        // An allow does not apply...
        check(&with_condition("allow", condition), &sized, NotAllowed);
        // ...and a deny does.
        let both = format!(
            r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"*","resource":"*"}},{{"effect":"deny","action":"*","resource":"*","condition":{condition}}}]}}"#
        );
        check(&both, &sized, ExplicitDeny);
    }
    // A deny whose understood condition fails does not apply, whatever else it says.
    let deny =
        r#"{"numeric_greater_than":{"cos:content-length":10},"ip_equal":{"qcs:ip":"10.0.0.0/8"}}"#;
    let policy = format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"*","resource":"*"}},{{"effect":"deny","action":"*","resource":"*","condition":{deny}}}]}}"#
    );
    check(&policy, &sized, Allow);
}

#[test]
fn tencents_documented_size_limit_pair() {
    // https://cloud.tencent.com/document/product/436/71307: allow up to N and
    // deny above N whenever a length is given.
    let policy = format!(
        r#"{{"version":"2.0","statement":[
            {{"effect":"allow","action":"name/cos:PutObject","resource":"{R}/*","condition":{{"numeric_less_than_equal":{{"cos:content-length":10}}}}}},
            {{"effect":"deny","action":"name/cos:PutObject","resource":"{R}/*","condition":{{"numeric_greater_than_if_exist":{{"cos:content-length":10}}}}}}]}}"#
    );
    check(&policy, &put("a").with_content_length(10), Allow);
    check(&policy, &put("a").with_content_length(11), ExplicitDeny);
    // `_if_exist` holds when the key is absent, so the deny applies then too.
    check(&policy, &put("a"), ExplicitDeny);
}

fn limits() -> UploadLimits {
    UploadLimits {
        max_size: 10_485_760,
        content_types: vec!["image/*".into(), "video/*".into()],
    }
}

fn key_policy(k: &str) -> Policy {
    Policy::for_upload(&bucket(), &Scope::Key(key(k)), &limits())
}

fn prefix_policy(dir: &str) -> Policy {
    Policy::for_upload(
        &bucket(),
        &Scope::Prefix(DirPath::parse(dir).unwrap()),
        &limits(),
    )
}

#[test]
fn upload_policies_are_exactly_this_json() {
    let res = format!("{R}/u/12/photos/k.jpg");
    let statements = |res: &str| {
        format!(
            concat!(
                r#"{{"effect":"allow","action":["name/cos:PutObject","name/cos:PostObject"],"resource":["{res}"],"#,
                r#""condition":{{"numeric_less_than_equal":{{"cos:content-length":[10485760]}},"string_like":{{"cos:content-type":["image/*","video/*"]}}}}}},"#,
                r#"{{"effect":"allow","action":["name/cos:InitiateMultipartUpload"],"resource":["{res}"],"#,
                r#""condition":{{"string_like":{{"cos:content-type":["image/*","video/*"]}}}}}},"#,
                r#"{{"effect":"allow","action":["name/cos:UploadPart","name/cos:CompleteMultipartUpload"],"resource":["{res}"],"#,
                r#""condition":{{"numeric_less_than_equal":{{"cos:content-length":[10485760]}}}}}},"#,
                r#"{{"effect":"allow","action":["name/cos:ListParts","name/cos:AbortMultipartUpload","name/cos:HeadObject","#,
                r#""name/cos:GetObject","name/cos:ListMultipartUploads"],"resource":["{res}"]}}"#,
            ),
            res = res
        )
    };
    assert_eq!(
        key_policy("u/12/photos/k.jpg").to_json(),
        format!(r#"{{"version":"2.0","statement":[{}]}}"#, statements(&res))
    );
    let res = format!("{R}/u/12/album 2026/*");
    assert_eq!(
        prefix_policy("/u/12/album 2026").to_json(),
        format!(
            r#"{{"version":"2.0","statement":[{},{{"effect":"allow","action":["name/cos:GetBucket"],"resource":["{res}"],"condition":{{"string_like":{{"cos:prefix":["u%2F12%2Falbum%202026%2F*"]}}}}}}]}}"#,
            statements(&res)
        )
    );
}

#[test]
fn a_key_policy_allows_the_upload_flows_on_its_key() {
    let p = key_policy("u/12/photos/k.jpg").to_json();
    let b = bucket();
    let k = key("u/12/photos/k.jpg");
    let obj = |a| RequestContext::object(a, &b, &k);
    for (req, expected) in [
        (
            obj(Action::PutObject)
                .with_content_length(10_485_760)
                .with_content_type("image/jpeg"),
            Allow,
        ),
        (
            obj(Action::PutObject)
                .with_content_length(10_485_761)
                .with_content_type("image/jpeg"),
            NotAllowed,
        ),
        (
            obj(Action::PutObject)
                .with_content_length(1)
                .with_content_type("text/html"),
            NotAllowed,
        ),
        (obj(Action::PutObject).with_content_length(1), NotAllowed),
        (
            obj(Action::PostObject)
                .with_content_length(1)
                .with_content_type("video/mp4"),
            Allow,
        ),
        (
            obj(Action::InitiateMultipartUpload).with_content_type("image/heic"),
            Allow,
        ),
        (
            obj(Action::InitiateMultipartUpload).with_content_type("application/octet-stream"),
            NotAllowed,
        ),
        (obj(Action::UploadPart).with_content_length(5 << 20), Allow),
        (
            obj(Action::UploadPart).with_content_length(11 << 20),
            NotAllowed,
        ),
        (
            obj(Action::CompleteMultipartUpload).with_content_length(10_485_760),
            Allow,
        ),
        (
            obj(Action::CompleteMultipartUpload).with_content_length(10_485_761),
            NotAllowed,
        ),
        (obj(Action::ListParts), Allow),
        (obj(Action::AbortMultipartUpload), Allow),
        (obj(Action::HeadObject), Allow),
        (obj(Action::GetObject), Allow),
        (
            RequestContext::listing(Action::ListMultipartUploads, &b, "u/12/photos/k.jpg"),
            Allow,
        ),
        (
            RequestContext::listing(Action::ListMultipartUploads, &b, "u/12/photos/"),
            NotAllowed,
        ),
        (obj(Action::DeleteObject), NotAllowed),
        (
            RequestContext::listing(Action::GetBucket, &b, "u/12/photos/k.jpg"),
            NotAllowed,
        ),
        (RequestContext::bucket(Action::HeadBucket, &b), NotAllowed),
    ] {
        check(&p, &req, expected);
    }
}

#[test]
fn a_prefix_policy_allows_listing_its_prefix_only() {
    let p = prefix_policy("/u/12").to_json();
    let b = bucket();
    for (action, prefix, expected) in [
        (Action::GetBucket, "u/12/", Allow),
        (Action::GetBucket, "u/12/photos/2026", Allow),
        (Action::GetBucket, "u/12", NotAllowed),
        (Action::GetBucket, "u/123/", NotAllowed),
        (Action::GetBucket, "u/", NotAllowed),
        (Action::GetBucket, "", NotAllowed),
        (Action::ListMultipartUploads, "u/12/a.jpg", Allow),
        (Action::ListMultipartUploads, "u/12", NotAllowed),
        (Action::ListMultipartUploads, "", NotAllowed),
    ] {
        check(&p, &RequestContext::listing(action, &b, prefix), expected);
    }
    let upload = |k: &str| put(k).with_content_length(1).with_content_type("image/png");
    check(&p, &upload("u/12/a.png"), Allow);
    check(&p, &upload("u/12/x/y/a.png"), Allow);
    check(&p, &upload("u/123/a.png"), NotAllowed);
    check(&p, &upload("u/1/a.png"), NotAllowed);
}

// ---------------------------------------------------------------- properties

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn segment() -> impl Strategy<Value = String> {
    "[a-z0-9 测é_-]{1,4}"
}

fn object_key() -> impl Strategy<Value = ObjectKey> {
    prop::collection::vec(segment(), 1..5).prop_map(|s| key(&s.join("/")))
}

/// User ids drawn from few, so that `u/12/` and `u/123/` meet often.
fn user_id() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["1", "12", "123", "2", "21"])
}

/// `/u/<id>/` or `/u/<id>/<segment>`.
fn user_dir() -> impl Strategy<Value = String> {
    (user_id(), prop::collection::vec(segment(), 0..2))
        .prop_map(|(id, rest)| format!("/u/{id}/{}", rest.join("/")))
}

/// `u/<id>/…/<name>`.
fn user_key() -> impl Strategy<Value = ObjectKey> {
    (user_id(), prop::collection::vec(segment(), 1..4))
        .prop_map(|(id, rest)| key(&format!("u/{id}/{}", rest.join("/"))))
}

fn any_request(k: ObjectKey) -> impl Strategy<Value = RequestContext> {
    (
        prop::sample::select(Action::ALL.to_vec()),
        prop::option::of(prop_oneof![
            0u64..=20_000_000,
            Just(10_485_760),
            Just(10_485_761),
            any::<u64>()
        ]),
        prop::option::of(prop_oneof![
            Just("image/jpeg".to_owned()),
            Just("video/mp4".to_owned()),
            Just("text/html".to_owned()),
            Just("application/octet-stream".to_owned()),
            Just(String::new()),
            "[a-zA-Z]{1,6}/[a-z*?]{0,6}",
        ]),
    )
        .prop_map(move |(action, length, content_type)| {
            let mut req = RequestContext::object(action, &bucket(), &k);
            if let Some(n) = length {
                req = req.with_content_length(n);
            }
            if let Some(t) = content_type {
                req = req.with_content_type(t);
            }
            req
        })
}

const GRANTED: [Action; 10] = [
    Action::PutObject,
    Action::PostObject,
    Action::InitiateMultipartUpload,
    Action::UploadPart,
    Action::CompleteMultipartUpload,
    Action::ListParts,
    Action::AbortMultipartUpload,
    Action::HeadObject,
    Action::GetObject,
    Action::ListMultipartUploads,
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_key_policy_never_allows_more(
        (granted, req) in object_key().prop_flat_map(|k| (Just(k.clone()), prop_oneof![Just(k), object_key()].prop_flat_map(any_request))),
    ) {
        let policy = Policy::for_upload(&bucket(), &Scope::Key(granted.clone()), &limits());
        if policy.evaluate(&req).is_allowed() {
            prop_assert_eq!(req.resource(), bucket().resource(granted.as_str()));
            prop_assert!(GRANTED.contains(&req.action()), "{:?}", req.action());
            let sized = [Action::PutObject, Action::PostObject, Action::UploadPart, Action::CompleteMultipartUpload];
            if sized.contains(&req.action()) {
                let n = req.content_length();
                prop_assert!(n.is_some_and(|n| n <= limits().max_size), "{:?}", n);
            }
            let typed = [Action::PutObject, Action::PostObject, Action::InitiateMultipartUpload];
            if typed.contains(&req.action()) {
                let t = req.content_type().unwrap();
                prop_assert!(t.starts_with("image/") || t.starts_with("video/"), "{}", t);
            }
        }
    }

    #[test]
    fn a_prefix_policy_never_allows_a_key_outside_it(dir in user_dir(), k in user_key()) {
        let dir = DirPath::parse(&dir).unwrap();
        let policy = Policy::for_upload(&bucket(), &Scope::Prefix(dir.clone()), &limits());
        let upload = RequestContext::object(Action::PutObject, &bucket(), &k)
            .with_content_length(1)
            .with_content_type("image/png");
        prop_assert_eq!(policy.evaluate(&upload).is_allowed(), k.is_within(&dir), "{} in {}", k, dir);
        let get = RequestContext::object(Action::GetObject, &bucket(), &k);
        prop_assert_eq!(policy.evaluate(&get).is_allowed(), k.is_within(&dir), "{} in {}", k, dir);
    }

    #[test]
    fn a_prefix_policy_lists_only_inside_it(dir in user_dir(), list in user_dir(), cut in 0usize..4) {
        let dir = DirPath::parse(&dir).unwrap();
        let policy = Policy::for_upload(&bucket(), &Scope::Prefix(dir.clone()), &limits());
        // Any prefix, with or without its trailing `/`, or cut short.
        let chars: Vec<char> = list[1..].chars().collect();
        let prefix: String = chars[..chars.len().saturating_sub(cut)].iter().collect();
        let req = RequestContext::listing(Action::GetBucket, &bucket(), &prefix);
        prop_assert_eq!(
            policy.evaluate(&req).is_allowed(),
            prefix.starts_with(dir.key_prefix()),
            "{:?} under {}", prefix, dir
        );
    }

    #[test]
    fn upload_policies_round_trip(k in object_key(), dir in user_dir(), max_size in any::<u64>(), types in prop::collection::vec("[a-z]{1,5}/[a-z*]{1,5}", 0..4)) {
        let limits = UploadLimits { max_size, content_types: types };
        let dir = DirPath::parse(&dir).unwrap();
        for scope in [Scope::Key(k.clone()), Scope::Prefix(dir.clone())] {
            let policy = Policy::for_upload(&bucket(), &scope, &limits);
            prop_assert_eq!(Policy::from_json(&policy.to_json()), Ok(policy));
        }
    }

    #[test]
    fn evaluation_never_panics(
        ops in prop::collection::vec((
            prop_oneof![
                Just("string_like".to_owned()), Just("numeric_less_than_equal_if_exist".to_owned()),
                Just("string_not_equal".to_owned()), "[a-z_]{1,30}",
            ],
            prop_oneof![
                Just("cos:content-length".to_owned()), Just("cos:content-type".to_owned()),
                Just("cos:prefix".to_owned()), "[a-z:-]{1,20}",
            ],
            prop_oneof![
                "\\PC{0,12}".prop_map(|s| serde_json::json!(s)),
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                any::<f64>().prop_map(|n| serde_json::json!(n)),
                prop::collection::vec("[*?a-z/]{0,6}", 0..3).prop_map(|v| serde_json::json!(v)),
            ],
        ), 0..4),
        effect in prop::sample::select(vec!["allow", "deny"]),
        req in object_key().prop_flat_map(any_request),
    ) {
        let mut condition = serde_json::Map::new();
        for (op, key, value) in ops {
            condition.insert(op, serde_json::json!({ key: value }));
        }
        let text = serde_json::json!({
            "version": "2.0",
            "statement": [{"effect": effect, "action": "*", "resource": "*", "condition": condition}],
        })
        .to_string();
        if let Ok(policy) = Policy::from_json(&text) {
            let decision = policy.evaluate(&req);
            // A single allow never denies explicitly; a single deny never allows.
            let possible = if effect == "allow" { [Allow, NotAllowed] } else { [ExplicitDeny, NotAllowed] };
            prop_assert!(possible.contains(&decision), "{:?}", decision);
        }
    }
}
