//! The XML convention and the refusals, on small documents.

use serde_json::{Value, json};

use super::document::{Document, Root, XmlError};

/// A top-level element: its local name, whether it is in the root's
/// namespace, its value.
type Child = (String, bool, Value);

/// The root and every top-level element.
fn read(xml: &str) -> Result<(Root, Vec<Child>), XmlError> {
    let (mut document, root) = Document::open(xml.as_bytes())?;
    let mut children = Vec::new();
    while let Some(child) = document.next_child()? {
        let (name, ours) = (child.local_name.clone(), child.ours);
        children.push((name, ours, document.read_child(child)?));
    }
    Ok((root, children))
}

/// The value of the one top-level element of `<c:E xmlns:c="urn:x">inside</c:E>`.
fn value(inside: &str) -> Value {
    let (_, children) = read(&format!("<c:E xmlns:c=\"urn:x\">{inside}</c:E>")).unwrap();
    assert_eq!(children.len(), 1, "{children:?}");
    children.into_iter().next().unwrap().2
}

fn refused(xml: &str) -> String {
    match read(xml) {
        Ok(read) => panic!("read: {read:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn elements_are_objects_of_attributes_and_children_or_their_text() {
    assert_eq!(
        value(
            r#"<c:Client id="7" gewijzigd=""><c:Persoon><c:Bsn> 999911120 </c:Bsn><c:Voorvoegsel/><c:Tussen></c:Tussen>
               <c:Telefoon soort="mobiel">06</c:Telefoon><c:Geslacht code="M"/></c:Persoon>
               <c:Doel id="G-1"><c:Actie>a</c:Actie></c:Doel><c:Doel id="G-2"><c:Actie>b</c:Actie><c:Actie>c</c:Actie></c:Doel>
               </c:Client>"#
        ),
        json!({"id": "7", "gewijzigd": "", "Persoon": {"Bsn": "999911120", "Voorvoegsel": "", "Tussen": "",
               "Telefoon": {"soort": "mobiel", "$text": "06"}, "Geslacht": {"code": "M"}},
               "Doel": [{"id": "G-1", "Actie": "a"}, {"id": "G-2", "Actie": ["b", "c"]}]})
    );
}

#[test]
fn any_prefix_or_a_default_namespace_reads_the_same() {
    let expected = json!({"id": "1", "Naam": {"achternaam": "Berg"}});
    for xml in [
        r#"<ce:Export xmlns:ce="urn:caress:export:2"><ce:Client id="1"><ce:Naam achternaam="Berg"/></ce:Client></ce:Export>"#,
        r#"<Export xmlns="urn:caress:export:2"><Client id="1"><Naam achternaam="Berg"/></Client></Export>"#,
        r#"<c:Export xmlns:c="urn:caress:export:2"><c:Client c:id="1"><Naam xmlns="urn:caress:export:2" achternaam="Berg"/></c:Client></c:Export>"#,
    ] {
        let (root, children) = read(xml).unwrap();
        assert_eq!((root.local_name.as_str(), root.namespace.as_deref()), ("Export", Some("urn:caress:export:2")));
        assert_eq!(children, [("Client".to_owned(), true, expected.clone())], "{xml}");
    }
}

#[test]
fn elements_and_attributes_of_other_namespaces_are_left_out() {
    let xml = r#"<c:E xmlns:c="urn:x" xmlns:v="urn:vendor-extra" a="1">
        <c:R id="1" v:extra="x"><v:Extra><c:Inside>lost</c:Inside></v:Extra><c:Kept>k</c:Kept></c:R>
        <v:Other id="2"/></c:E>"#;
    let (root, children) = read(xml).unwrap();
    assert_eq!(Value::Object(root.attributes), json!({"a": "1"}));
    assert_eq!(children[0], ("R".to_owned(), true, json!({"id": "1", "Kept": "k"})));
    assert_eq!(children[1], ("Other".to_owned(), false, Value::Null));
}

#[test]
fn entities_character_references_and_cdata_are_decoded_and_text_trimmed() {
    assert_eq!(
        value(
            r#"<c:T a="x &amp; &#x27;y&#39; &lt;&gt;">  &quot;A&quot; &amp; <![CDATA[<b>&amp;</b>]]> &#233;
        </c:T>"#
        ),
        json!({"a": "x & 'y' <>", "$text": "\"A\" & <b>&amp;</b> é"})
    );
}

#[test]
fn documents_with_a_dtd_are_refused_before_anything_is_expanded() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<c:Export xmlns:c="urn:caress:export:2"><c:Client id="&lol9;"/></c:Export>"#;
    assert!(refused(laughs).contains("declares entities"), "{}", refused(laughs));
    let external = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<c:Export xmlns:c="urn:caress:export:2"><c:Client id="&xxe;"/></c:Export>"#;
    assert!(refused(external).contains("declares entities"));
    let dtd = r#"<!DOCTYPE Export SYSTEM "http://example.org/export.dtd"><Export/>"#;
    assert!(refused(dtd).contains("names an external definition"));
    // Without a DTD, an entity of its own is unknown.
    let undefined = r#"<c:E xmlns:c="urn:x"><c:R id="1">&lol;</c:R></c:E>"#;
    assert!(refused(undefined).contains("`&lol;` is not defined"), "{}", refused(undefined));
}

#[test]
fn malformed_documents_are_refused_with_a_reason() {
    let cases = [
        ("", "no root element"),
        ("<c:E xmlns:c=\"urn:x\"><c:R id=\"1\">", "cut short"),
        ("<c:E xmlns:c=\"urn:x\"><c:R id=\"1\"></c:E>", "</c:E>"),
        ("<c:E xmlns:c=\"urn:x\"></c:E><c:E xmlns:c=\"urn:x\"/>", "more after the root"),
        ("<c:E xmlns:c=\"urn:x\"/>tekst", "more after the root"),
        ("tekst<E/>", "text before the root"),
        ("<c:E><c:R/></c:E>", "prefix `c` is not declared"),
        ("<E><R a=\"1\" a=\"2\"/></E>", "attribute"),
        ("<E><R a=\"&bogus;\"/></E>", "the attribute `a`"),
        ("<E>&#0;</E>", "is not a character"),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><E/>", "only UTF-8"),
    ];
    for (xml, message) in cases {
        let error = refused(xml);
        assert!(error.contains(message), "{xml}: {error}");
    }
}

#[test]
fn nesting_is_limited() {
    let deep = format!("<E><R>{}{}</R></E>", "<a>".repeat(100), "</a>".repeat(100));
    assert!(refused(&deep).contains("nest deeper than 64"));
}

/// An entity bomb is refused at its declaration: the reader takes no more
/// than a buffer's worth of the document (so it never holds more), however
/// much follows, and expands nothing.
#[test]
fn an_entity_bomb_is_refused_after_reading_a_buffer_of_it() {
    struct Counting<'a> {
        bytes: &'a [u8],
        read: std::rc::Rc<std::cell::Cell<usize>>,
    }
    impl std::io::Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = std::io::Read::read(&mut self.bytes, buf)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }
    let mut levels = String::from("<!ENTITY a0 \"lol\">");
    for level in 1..=20 {
        levels.push_str(&format!("<!ENTITY a{level} \"{}\">", format!("&a{};", level - 1).repeat(10)));
    }
    let tail = "<c:R id=\"&a20;\"/>".repeat(1_000_000);
    let document = format!("<!DOCTYPE c:E [{levels}]><c:E xmlns:c=\"urn:x\">{tail}</c:E>");
    assert!(document.len() > 15_000_000);
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let source =
        std::io::BufReader::with_capacity(8 * 1024, Counting { bytes: document.as_bytes(), read: read.clone() });
    let error = Document::open(source).map(|_| ()).unwrap_err();
    assert!(error.message.contains("declares entities"), "{error}");
    assert!(read.get() <= 16 * 1024, "read {} bytes", read.get());
}
