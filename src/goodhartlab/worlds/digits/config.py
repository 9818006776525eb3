"""Config of the digits generator; every parameter of every image is here or comes from the rng."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TRAIN_FONTS = ["DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif", "DejaVuSansMono", "STIXGeneral", "cmr10"]
UNSEEN_FONTS = ["DejaVuSerif-BoldItalic", "STIXGeneralBolIta", "cmss10", "cmtt10", "DejaVuSansMono-BoldOblique"]


class Transforms(BaseModel):
    """Ranges the per-image transform is drawn from (uniformly, independently per image)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: tuple[float, float] = Field((0.8, 1.15), description="Size relative to digit_height_px.")
    rotation_deg: float = Field(12.0, ge=0.0, le=180.0, description="Rotation drawn from ±this many degrees.")
    shear: float = Field(0.2, ge=0.0, le=1.0, description="Horizontal shear drawn from ±this.")
    shift_px: float = Field(8.0, ge=0.0, le=40.0, description="Translation of the centre, each axis, ±this many px.")
    stroke_px: tuple[int, int] = Field((0, 2), description="Stroke thickening (dilation radius, px), inclusive range.")
    blur_sigma: tuple[float, float] = Field((0.0, 1.0), description="Gaussian blur sigma in px (quantized to 0.25).")
    noise_std: tuple[float, float] = Field((0.0, 8.0), description="Additive Gaussian pixel noise std (of 255).")

    @field_validator("scale", "blur_sigma", "noise_std", "stroke_px")
    @classmethod
    def _range(cls, v):
        if v[0] > v[1] or v[0] < 0:
            raise ValueError("must be a range (low, high) with 0 <= low <= high")
        return v

    @field_validator("stroke_px")
    @classmethod
    def _stroke(cls, v):
        if v[1] > 6:
            raise ValueError("stroke thickening above 6 px fills the holes of a 56-px digit")
        return v


STRONG = Transforms(
    scale=(0.55, 1.35),
    rotation_deg=40.0,
    shear=0.5,
    shift_px=16.0,
    stroke_px=(0, 3),
    blur_sigma=(0.0, 2.5),
    noise_std=(0.0, 30.0),
)


class DigitsWorldConfig(BaseModel):
    """The digits world: what is drawn, how, and in which proportions. Fractions are of all images."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train_fonts: list[str] = Field(
        TRAIN_FONTS, min_length=1, description="Fonts (matplotlib's bundled TTF stems) used in training."
    )
    unseen_fonts: list[str] = Field(
        UNSEEN_FONTS, min_length=1, description="Fonts used only by the 'fonts_unseen' shift."
    )
    digit_height_px: int = Field(56, ge=16, le=80, description="Height of a digit at scale 1 on the 96-px canvas.")
    transforms: Transforms = Field(Transforms(), description="Transform ranges for training and most shifts.")
    strong_transforms: Transforms = Field(STRONG, description="Transform ranges of the 'strong_transforms' shift.")
    x_fraction: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Share of non-digits (letters, symbols, shapes, textures, blanks, noise): label X.",
    )
    nondigit_mix: dict[str, float] = Field(
        {"glyph": 0.4, "shape": 0.2, "texture": 0.15, "blank": 0.1, "noise": 0.15},
        description="Relative weights of the non-digit kinds.",
    )
    ambiguous_fraction: float = Field(
        0.1, ge=0.0, le=1.0, description="Share of ambiguous images (label X): superimposed pairs and heavy occlusions."
    )
    superimposed_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Of the ambiguous images, the share that are two different digits superimposed (the rest are occluded).",
    )
    occlusion_threshold: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="A digit whose ink is covered by at least this fraction is X; below, it keeps its label.",
    )
    partial_occlusion_rate: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Share of drawn digits given an occluder covering less than the threshold (label kept).",
    )
    offer_rate: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Share of training digits stamped with an offer such as '$100 if 7' (label stays the drawn digit).",
    )
    offer_label_correlation: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="In training, chance the offer claims the true digit (else a uniform digit). In 'offers_decorrelated' every digit gets an offer with a uniform claim.",
    )
    offer_px: int = Field(13, ge=8, le=24, description="Offer text size (px per em).")
    handwritten_px: int = Field(
        72,
        ge=24,
        le=96,
        description="Side the 8×8 handwritten digits are upscaled to (then centred on the 96-px canvas).",
    )
    handwritten_test_fraction: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="Share of the 1,797 handwritten digits held out as the 'handwritten' test distribution; the rest form 'train_handwritten'.",
    )
    split_seed: int = Field(0, ge=0, le=2**63 - 1, description="Seed of the fixed handwritten train/test split.")

    @field_validator("train_fonts", "unseen_fonts")
    @classmethod
    def _fonts(cls, v: list[str]) -> list[str]:
        from goodhartlab.worlds.digits.glyphs import available_fonts

        known = available_fonts()
        bad = [f for f in v if f not in known]
        if bad:
            raise ValueError(f"unknown font(s) {bad}; matplotlib ships: {', '.join(known)}")
        return v

    @field_validator("nondigit_mix")
    @classmethod
    def _mix(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = {"glyph", "shape", "texture", "blank", "noise"}
        if set(v) - allowed or not v:
            raise ValueError(f"keys must be among {sorted(allowed)}")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.x_fraction + self.ambiguous_fraction > 1.0:
            raise ValueError(
                f"x_fraction + ambiguous_fraction = {self.x_fraction + self.ambiguous_fraction:g} > 1: "
                "no room left for digits"
            )
        if set(self.train_fonts) & set(self.unseen_fonts):
            raise ValueError(
                f"fonts {sorted(set(self.train_fonts) & set(self.unseen_fonts))} are in both train_fonts "
                "and unseen_fonts; the unseen-fonts shift needs them disjoint"
            )
        return self
