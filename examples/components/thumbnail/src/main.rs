//! Example skiff component: resizes an image.
//!
//! Input artifact `image`, a binary netpbm image: PPM (`P6`, colour) or PGM (`P5`, grey) with
//! 8-bit samples. Input parameters `width` and, optionally, `height` (when not given, the aspect
//! ratio is kept). Writes the resized image, in the same format, as the output artifact
//! `thumbnail`, and returns its `width` and `height`. Each output pixel is the average of the
//! input pixels it covers (a box filter), so shrinking does not alias.

use skiff_guest::{BoxError, InputArtifact, OutputArtifact, Outputs};

/// The largest side accepted, in and out.
const MAX_SIDE: u32 = 16_384;

/// The thumbnail's size.
#[derive(Debug, PartialEq, Outputs)]
struct Size {
    width: u32,
    height: u32,
}

/// Resizes `image` to `width` × `height` (keeping the aspect ratio when `height` is not given).
#[skiff_guest::component]
fn thumbnail(
    image: InputArtifact,
    width: u32,
    height: Option<u32>,
    thumbnail: OutputArtifact,
) -> Result<Size, BoxError> {
    let source = Image::decode(&image.read()?)?;
    let height = height.unwrap_or_else(|| {
        ((u64::from(source.height) * u64::from(width) + u64::from(source.width) / 2)
            / u64::from(source.width))
        .max(1) as u32
    });
    for (name, side) in [("width", width), ("height", height)] {
        if side == 0 || side > MAX_SIDE {
            return Err(format!("{name} must be between 1 and {MAX_SIDE}, got {side}").into());
        }
    }
    let resized = source.resize(width, height);
    thumbnail.write(resized.encode())?;
    Ok(Size { width, height })
}

/// An 8-bit image: 1 channel (grey) or 3 (RGB), rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
struct Image {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Result<Image, String> {
        let channels = match bytes.get(..2) {
            Some(b"P6") => 3,
            Some(b"P5") => 1,
            _ => return Err("not a binary PPM (P6) or PGM (P5) image".to_owned()),
        };
        let mut pos = 2;
        let mut numbers = [0u32; 3];
        for (i, what) in ["width", "height", "maximum value"].iter().enumerate() {
            // Whitespace and `#` comments separate the header's numbers.
            loop {
                match bytes.get(pos) {
                    Some(b) if b.is_ascii_whitespace() => pos += 1,
                    Some(b'#') => {
                        while bytes.get(pos).is_some_and(|&b| b != b'\n') {
                            pos += 1;
                        }
                    }
                    _ => break,
                }
            }
            let start = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            numbers[i] = std::str::from_utf8(&bytes[start..pos])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("the header's {what} is not a number"))?;
        }
        let [width, height, max] = numbers;
        if max == 0 || max > 255 {
            return Err(format!(
                "only 8-bit images are supported (maximum value {max})"
            ));
        }
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(format!(
                "the image is {width}x{height}: each side must be 1 to {MAX_SIDE}"
            ));
        }
        pos += 1; // the single whitespace after the header
        let len = width as usize * height as usize * channels;
        let pixels = bytes
            .get(pos..pos + len)
            .ok_or_else(|| {
                format!("the image is cut short: {width}x{height} needs {len} bytes of pixels")
            })?
            .to_vec();
        Ok(Image {
            width,
            height,
            channels,
            pixels,
        })
    }

    fn encode(&self) -> Vec<u8> {
        let magic = if self.channels == 3 { "P6" } else { "P5" };
        let mut out = format!("{magic}\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.pixels);
        out
    }

    /// Box-filter resize: each output pixel averages the input pixels its area covers (at least
    /// one, so growing repeats pixels).
    fn resize(&self, width: u32, height: u32) -> Image {
        let span = |out: u32, out_len: u32, in_len: u32| {
            let (out, out_len, in_len) = (u64::from(out), u64::from(out_len), u64::from(in_len));
            let start = out * in_len / out_len;
            let end = ((out + 1) * in_len).div_ceil(out_len).max(start + 1);
            start as usize..end as usize
        };
        let c = self.channels;
        let mut pixels = Vec::with_capacity(width as usize * height as usize * c);
        for oy in 0..height {
            let rows = span(oy, height, self.height);
            for ox in 0..width {
                let cols = span(ox, width, self.width);
                let mut sums = [0u64; 3];
                for y in rows.clone() {
                    let row = &self.pixels[y * self.width as usize * c..];
                    for x in cols.clone() {
                        for (ch, sum) in sums.iter_mut().enumerate().take(c) {
                            *sum += u64::from(row[x * c + ch]);
                        }
                    }
                }
                let n = (rows.len() * cols.len()) as u64;
                for sum in sums.iter().take(c) {
                    pixels.push(((sum + n / 2) / n) as u8);
                }
            }
        }
        Image {
            width,
            height,
            channels: c,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_a_grey_image_by_averaging() {
        let mut bytes = b"P5\n# a comment\n4 2\n255\n".to_vec();
        bytes.extend_from_slice(&[0, 10, 20, 30, 40, 50, 60, 70]);
        let image = Image::decode(&bytes).unwrap();
        let small = image.resize(2, 1);
        assert_eq!(small.pixels, [25, 45]);
        assert_eq!(small.encode(), b"P5\n2 1\n255\n\x19\x2d");
    }

    #[test]
    fn growing_repeats_pixels_and_keeps_colour() {
        let image = Image::decode(b"P6 1 1 255 \x01\x02\x03").unwrap();
        assert_eq!(image.resize(2, 2).pixels, [1, 2, 3].repeat(4));
    }

    #[test]
    fn refuses_other_formats_and_short_data() {
        assert!(
            Image::decode(b"\x89PNG")
                .unwrap_err()
                .contains("not a binary PPM")
        );
        assert!(
            Image::decode(b"P5 2 2 255 \x00")
                .unwrap_err()
                .contains("cut short")
        );
        assert!(
            Image::decode(b"P5 2 2 65535 ")
                .unwrap_err()
                .contains("8-bit")
        );
    }
}
