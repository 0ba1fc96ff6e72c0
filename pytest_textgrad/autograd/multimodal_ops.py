"""TextGrad's ``textgrad.autograd.multimodal_ops``."""

from ..core.multimodal_ops import MultimodalLLMCall, OrderedFieldsMultimodalLLMCall

__all__ = ["MultimodalLLMCall", "OrderedFieldsMultimodalLLMCall"]
