"""TextGrad's ``textgrad.engine.engine_utils``: tell PNG from JPEG bytes."""


def is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def is_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n"


def get_image_type_from_bytes(data: bytes) -> str:
    if is_jpeg(data):
        return "jpeg"
    if is_png(data):
        return "png"
    raise ValueError("Image type not supported, only jpeg and png supported.")
