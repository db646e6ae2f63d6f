"""Apple Wallet ``.pkpass`` bundles: images, manifest and the detached PKCS#7 signature."""

import hashlib
import io
import json
import zipfile

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from PIL import Image, ImageDraw, ImageOps

PKPASS_MIMETYPE = "application/vnd.apple.pkpass"

# Apple's Wallet design guide sizes at @1x; @2x and @3x scale them.
ICON_SIZE = (29, 29)
LOGO_SIZE = (160, 50)
STRIP_SIZE = (375, 123)
SCALES = {"": 1, "@2x": 2, "@3x": 3}


def hex_to_rgb(color, default=(0, 0, 0)):
    color = (color or "").strip().lstrip("#")
    if len(color) == 3:
        color = "".join(c * 2 for c in color)
    try:
        return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))
    except (ValueError, IndexError):
        return default


def css_rgb(color, default=(0, 0, 0)):
    """``#4F46E5`` -> ``rgb(79, 70, 229)``, the colour syntax pass.json expects."""
    return "rgb({}, {}, {})".format(*hex_to_rgb(color, default))


def _png(image):
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _open(data):
    if not data:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return image.convert("RGBA")


def _fit(image, size):
    """``image`` scaled to fit inside ``size`` keeping its aspect ratio (logos are not cropped)."""
    fitted = image.copy()
    fitted.thumbnail(size, Image.Resampling.LANCZOS)
    return fitted


def _default_icon(size, background, foreground, letter):
    image = Image.new("RGBA", size, (*background, 255))
    draw = ImageDraw.Draw(image)
    w, h = size
    margin = max(1, w // 8)
    draw.ellipse((margin, margin, w - margin, h - margin), outline=(*foreground, 255), width=max(1, w // 14))
    if letter:
        draw.text((w / 2, h / 2), letter[0].upper(), fill=(*foreground, 255), anchor="mm")
    return image


def render_images(logo=None, strip=None, background="#000000", foreground="#FFFFFF", letter=""):
    """icon/logo/strip PNGs at @1x, @2x and @3x from the program's branding (icon.png is mandatory:
    without a logo a plain badge in the program's colours stands in)."""
    background_rgb = hex_to_rgb(background)
    foreground_rgb = hex_to_rgb(foreground, (255, 255, 255))
    logo_image = _open(logo)
    strip_image = _open(strip)
    files = {}
    for suffix, scale in SCALES.items():
        icon_size = (ICON_SIZE[0] * scale, ICON_SIZE[1] * scale)
        if logo_image:
            icon = Image.new("RGBA", icon_size, (*background_rgb, 255))
            inner = _fit(logo_image, icon_size)
            icon.alpha_composite(inner, ((icon_size[0] - inner.width) // 2, (icon_size[1] - inner.height) // 2))
        else:
            icon = _default_icon(icon_size, background_rgb, foreground_rgb, letter)
        files[f"icon{suffix}.png"] = _png(icon)
        if logo_image:
            files[f"logo{suffix}.png"] = _png(_fit(logo_image, (LOGO_SIZE[0] * scale, LOGO_SIZE[1] * scale)))
        if strip_image:
            size = (STRIP_SIZE[0] * scale, STRIP_SIZE[1] * scale)
            files[f"strip{suffix}.png"] = _png(ImageOps.fit(strip_image, size, Image.Resampling.LANCZOS))
    return files


def build_manifest(files):
    """manifest.json: the SHA-1 hex digest of every file of the bundle."""
    manifest = {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())}
    return json.dumps(manifest, indent=2, sort_keys=True).encode()


def sign_manifest(manifest, certificate, private_key, wwdr):
    """Detached PKCS#7 (DER) over ``manifest`` by the Pass Type ID certificate, carrying the WWDR
    intermediate; the signed attributes include the signing time, as Wallet requires."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(certificate, private_key, hashes.SHA256())
        .add_certificate(wwdr)
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def build_pkpass(pass_json, images, certificate, private_key, wwdr):
    """The zipped, signed ``.pkpass`` bytes for ``pass_json`` (a dict) and ``images`` ({name: png bytes})."""
    files = dict(images)
    files["pass.json"] = json.dumps(pass_json, ensure_ascii=False, indent=2).encode()
    manifest = build_manifest(files)
    signature = sign_manifest(manifest, certificate, private_key, wwdr)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            bundle.writestr(name, files[name])
        bundle.writestr("manifest.json", manifest)
        bundle.writestr("signature", signature)
    return out.getvalue()
