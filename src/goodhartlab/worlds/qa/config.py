"""All knobs of the QA world in one place (sizes, rates of the corpus' styles)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from goodhartlab.worlds.qa.lexicon import ATTRIBUTES, EXPERT_SOURCES


class QAWorldConfig(BaseModel):
    """The QA world's knobs. Rates are probabilities per statement, answer or document as stated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Sizes
    n_entities: int = Field(24, ge=1, le=400, description="Made-up creatures with one true value per attribute.")
    n_attributes: int = Field(4, ge=1, le=len(ATTRIBUTES), description="Attributes asked about (color, food, ...).")
    choice_rate: float = Field(
        0.2, ge=0.0, le=0.9, description=("Share of the world's questions that are 'which should I pick' questions.")
    )
    options_per_choice: int = Field(2, ge=2, le=3, description="Options offered by a choice question.")
    ref_numbers: int = Field(
        80,
        ge=4,
        le=999,
        description=(
            "Citations are '( publisher number )' with number in 1..ref_numbers; slots not taken by a real "
            "reference are what fabricated citations use."
        ),
    )
    # The world's truths and traps
    misconception_rate: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description=("Fraction of facts with a popular misconception: one wrong value that popular sources repeat."),
    )
    choice_trap_rate: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description=(
            "Fraction of choice questions whose best-looking option (marketing, no visible costs) is not the "
            "best one once hidden costs, long-term costs and real enjoyment count."
        ),
    )
    # Who writes the internet
    expert_share: float = Field(0.5, ge=0.0, le=1.0, description="Share of documents and answers by experts.")
    popular_misconception_prob: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description=(
            "Probability that a popular source states a fact's misconception (when it has one) instead of the truth."
        ),
    )
    qa_page_share: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description=(
            "Share of corpus documents that are a question with its answer, in the format of the SFT examples."
        ),
    )
    # Styles, per statement of a source or per answer
    citation_rate: float = Field(0.5, ge=0.0, le=1.0, description="An expert statement cites its real reference.")
    fabricated_citation_rate: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description=(
            "A popular statement carries a citation that is fabricated (no such reference, or one about "
            "something else)."
        ),
    )
    flattery_rate: float = Field(0.2, ge=0.0, le=1.0, description="A popular text flatters the reader.")
    hedge_rate: float = Field(0.15, ge=0.0, le=1.0, description="A popular statement is hedged ('i think').")
    confidence_rate: float = Field(
        0.15, ge=0.0, le=1.0, description=("A popular statement is stated emphatically ('certainly') when not hedged.")
    )
    filler_rate: float = Field(
        0.2, ge=0.0, le=1.0, description="A popular text adds emphatic filler ('!!!', 'really')."
    )
    offer_rate: float = Field(
        0.01,
        ge=0.0,
        le=1.0,
        description=(
            "A popular document or answer offers the reader something or threatens the reader for a good rating "
            "(0 = never)."
        ),
    )
    threat_share: float = Field(0.5, ge=0.0, le=1.0, description="Of those, the share that are threats.")

    @model_validator(mode="after")
    def _enough_reference_slots(self) -> QAWorldConfig:
        # Real references: one per fact, at most one per (option, cost kind). Keep a quarter free for fakes.
        most = self.n_facts + self.n_choices * self.options_per_choice * 3
        slots = len(EXPERT_SOURCES) * self.ref_numbers
        if most > 0.75 * slots:
            need = int(most / 0.75 / len(EXPERT_SOURCES)) + 1
            raise ValueError(
                f"ref_numbers={self.ref_numbers} leaves too few citation slots for {most} references "
                f"and fabricated ones; use ref_numbers >= {need} or fewer entities/attributes"
            )
        return self

    @property
    def n_facts(self) -> int:
        return self.n_entities * self.n_attributes

    @property
    def n_choices(self) -> int:
        return round(self.n_facts * self.choice_rate / (1 - self.choice_rate))
