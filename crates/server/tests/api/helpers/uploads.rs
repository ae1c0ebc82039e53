//! Avatar uploads the way `wx.uploadFile` sends them.

/// The largest avatar the server accepts.
pub const MAX_AVATAR_BYTES: usize = 1024 * 1024;

const BOUNDARY: &str = "----wxlogin-test-boundary-7MA4YWxkTrZu0gW";

/// The content type of the multipart bodies built here.
pub fn multipart_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A multipart/form-data body with a text field and then the file `bytes` under `field`, as
/// `wx.uploadFile` sends a file next to its `formData`.
pub fn multipart_file(field: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = text_part().into_bytes();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A multipart/form-data body with the text field alone and no file part.
pub fn multipart_without_file() -> Vec<u8> {
    format!("{}--{BOUNDARY}--\r\n", text_part()).into_bytes()
}

fn text_part() -> String {
    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\navatar\r\n")
}

/// `len` bytes that start like a PNG file.
pub fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(len, 7);
    bytes
}
