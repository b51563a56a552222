"""What the demo study's Voices part is made of: synthetic transcripts and a codebook.

Plain data and plain functions, no Django: ``demo_load`` stores them. Every transcript is
written for the demo from short invented exchanges; none is, or paraphrases, a real account.
Its first line says so, and so does the source's description. The codebook follows the themes
the seed study's public outputs name (support in pregnancy, stigma and non-judgemental care,
surveillance, care around birth, mother-and-baby placements, separation, support dropping off
after birth, care co-ordination, trauma); the passages are built so that themes rise and fade
across the five waves, as they would in a longitudinal study, but they are not findings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SYNTHETIC_NOTICE = (
    "[Synthetic transcript written for the Stepping Stones demo. Not a real account: "
    "no real person said these words.]"
)
SYNTHETIC_DESCRIPTION = (
    "Synthetic transcript written for the demo, not a real account. "
    "It exists to show how the platform works; nothing in it is a research finding."
)
INTERVIEWER = "Interviewer"
PARTICIPANT = "Participant"
FACILITATOR = "Facilitator"


@dataclass(frozen=True)
class DemoCode:
    key: str
    name: str
    colour: str
    description: str
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    children: tuple[DemoCode, ...] = ()

    @property
    def is_codable(self) -> bool:
        """Theme codes that gather child codes are headings, not applied to text."""
        return not self.children


def _c(
    key: str,
    name: str,
    colour: str,
    description: str,
    inclusion: str,
    exclusion: str,
    example: str,
) -> DemoCode:
    return DemoCode(key, name, colour, description, inclusion, exclusion, example)


CODEBOOK: tuple[DemoCode, ...] = (
    DemoCode(
        "antenatal",
        "Care in pregnancy",
        "#1b9e77",
        "How antenatal care was arranged and experienced, from booking onwards.",
        children=(
            _c(
                "booking",
                "Booking and first contact",
                "#1b9e77",
                "Finding out about the pregnancy, booking and the first contact with maternity "
                "services.",
                "Timing of booking, how the first appointment went, who referred her.",
                "Later antenatal appointments (code Specialist midwife relationship).",
                "I booked late because I was scared of what they'd do.",
            ),
            _c(
                "midwife",
                "Specialist midwife relationship",
                "#66c2a5",
                "The relationship with the specialist (substance use) midwife.",
                "Continuity, trust, how appointments felt, being listened to.",
                "General stigma on wards (code Feeling judged by staff).",
                "She texts me before every appointment, she knows my story.",
            ),
        ),
    ),
    DemoCode(
        "treatment",
        "Drug treatment and substitution therapy",
        "#d95f02",
        "Drug treatment during and after pregnancy, including opioid substitution therapy.",
        children=(
            _c(
                "ost",
                "Methadone or buprenorphine dose",
                "#d95f02",
                "Changes to, worries about or arrangements for a substitution medicine.",
                "Dose changes, supervised consumption, switching medicine, withdrawal fears.",
                "Use of other drugs without a treatment context (code Trauma and past "
                "experiences when linked to coping).",
                "They put my methadone up in the third trimester and I felt more settled.",
            ),
            _c(
                "keyworker",
                "Keyworker and drug service",
                "#fc8d62",
                "The drug service and its keyworker, outside questions of dose.",
                "Keyworker relationship, groups, drop-ins, co-located clinics.",
                "Midwife appointments held at the drug service (code Specialist midwife "
                "relationship).",
                "My keyworker came to the ward round with me.",
            ),
        ),
    ),
    DemoCode(
        "stigma",
        "Stigma and judgement",
        "#7570b3",
        "Feeling judged, or not, for using drugs or being in treatment.",
        children=(
            _c(
                "judged",
                "Feeling judged by staff",
                "#7570b3",
                "Moments where staff attitudes, words or practices felt stigmatising.",
                "Comments, looks, being treated differently, labels in notes.",
                "Formal safeguarding processes in themselves (code Surveillance and safeguarding).",
                "The nurse on nights talked about me like I wasn't there.",
            ),
            _c(
                "relational",
                "Non-judgemental, relational care",
                "#8da0cb",
                "Care experienced as respectful, warm and non-judgemental.",
                "Being treated as a mother first, staff who explained, kindness.",
                "Practical help without a relational element (code the service concerned).",
                "She never once made me feel like a junkie.",
            ),
        ),
    ),
    DemoCode(
        "safeguarding",
        "Surveillance and safeguarding",
        "#e7298a",
        "Social work involvement and child protection processes before and after birth.",
        children=(
            _c(
                "social-work",
                "Social work assessment",
                "#e7298a",
                "Pre-birth and later assessments by social work or social services.",
                "Assessment visits, the social worker relationship, feeling watched.",
                "Meetings and conferences (code Child protection meetings).",
                "Every visit felt like a test I could fail.",
            ),
            _c(
                "meetings",
                "Child protection meetings",
                "#f4a6c9",
                "Pre-birth conferences, child protection planning meetings and reviews.",
                "Preparing for, attending and the outcomes of formal meetings.",
                "Informal conversations with a social worker (code Social work assessment).",
                "There were twelve people round the table and I knew two of them.",
            ),
        ),
    ),
    DemoCode(
        "birth",
        "Birth and the postnatal ward",
        "#66a61e",
        "Delivery, inpatient care and the days before discharge.",
        children=(
            _c(
                "ward",
                "Care on the ward",
                "#66a61e",
                "Care during labour, delivery and the inpatient stay.",
                "Pain relief, medicines on the ward, privacy, staff on shift.",
                "The baby's withdrawal care (code Baby's withdrawal and neonatal care).",
                "Nobody had told the ward I was on methadone, so I waited hours.",
            ),
            _c(
                "nas",
                "Baby's withdrawal and neonatal care",
                "#a6d854",
                "Scoring and treating the baby's withdrawal, neonatal or transitional care.",
                "Scoring, feeding, the neonatal unit, guilt or worry about withdrawal.",
                "The mother's own medication (code Methadone or buprenorphine dose).",
                "Every four hours they scored her and I held my breath.",
            ),
            _c(
                "discharge",
                "Discharge planning",
                "#b3de69",
                "Planning and meetings before mother and baby left hospital.",
                "Pre-discharge meetings, waiting for decisions, going home plans.",
                "Support after going home (code Support after birth).",
                "We weren't allowed home until the meeting on day five.",
            ),
        ),
    ),
    DemoCode(
        "placement",
        "Keeping the baby, separation and loss",
        "#e6ab02",
        "Placements that kept mother and baby together, separation and what came after.",
        children=(
            _c(
                "mab",
                "Mother-and-baby or residential placement",
                "#e6ab02",
                "Access to and life in mother-and-baby or residential treatment placements.",
                "Waiting lists, funding, moving away, rules in placement.",
                "Foster care of the baby alone (code Separation and removal).",
                "The place in the unit came through a week before my due date.",
            ),
            _c(
                "removal",
                "Separation and removal",
                "#ffd92f",
                "The baby being taken into care, kinship or foster care.",
                "How separation happened, contact arrangements, court.",
                "Support offered afterwards (code Support after removal).",
                "They took him from the ward while I was asleep.",
            ),
            _c(
                "after-removal",
                "Support after removal",
                "#fff2ae",
                "What support, if any, followed the baby's removal.",
                "Counselling, peer support, being dropped by services.",
                "Support while the baby is at home (code Support after birth).",
                "Once he was gone, nobody phoned me any more.",
            ),
        ),
    ),
    DemoCode(
        "after-birth",
        "Support after birth",
        "#a6761d",
        "Support in the months after birth, and how it changed.",
        children=(
            _c(
                "drop-off",
                "Support dropping off",
                "#a6761d",
                "Services stepping back or ending after the birth.",
                "Discharge from the specialist midwife, closed cases, fewer visits.",
                "Support ending after removal (code Support after removal).",
                "After six weeks the midwife was gone and that was that.",
            ),
            _c(
                "community",
                "Health visitor and community support",
                "#d8b365",
                "Health visitors, family nurses, groups and community hubs after birth.",
                "Visits, baby groups, peer groups, practical help.",
                "Drug service support (code Keyworker and drug service).",
                "The health visitor is the one person who asks how I am.",
            ),
        ),
    ),
    DemoCode(
        "coordination",
        "Co-ordination between services",
        "#666666",
        "How services worked together, or did not, around her.",
        children=(
            _c(
                "lead",
                "Lead professional and joined-up care",
                "#666666",
                "A named person co-ordinating care, shared plans and joint appointments.",
                "Lead professional, joint visits, services talking to each other.",
                "A single service's own care (code that service).",
                "My midwife rang the drug service so I didn't have to.",
            ),
            _c(
                "repeating",
                "Repeating my story",
                "#b3b3b3",
                "Having to tell the same history to service after service.",
                "Repeated assessments, new workers, lost notes.",
                "A single difficult assessment (code Social work assessment).",
                "Every new face wants the whole story from the start.",
            ),
        ),
    ),
    DemoCode(
        "trauma",
        "Trauma and past experiences",
        "#984ea3",
        "Past trauma, earlier removals and how care did or did not take them into account.",
        "Earlier children removed, violence, care experience, trauma-informed practice.",
        "Present-day stigma (code Feeling judged by staff).",
        "When I walked into that hospital it all came back from the last time.",
    ),
    DemoCode(
        "hopes",
        "Hopes, recovery and motherhood",
        "#377eb8",
        "Her sense of herself as a mother and her hopes for the future.",
        children=(
            _c(
                "mum",
                "Being a mum",
                "#377eb8",
                "Identity, pride and worry as a mother.",
                "Bonding, routines, proving herself, pride.",
                "Plans for recovery (code Recovery and the future).",
                "When she smiles at me I know I'm doing something right.",
            ),
            _c(
                "recovery",
                "Recovery and the future",
                "#80b1d3",
                "Recovery from drug use and plans for the future.",
                "Reducing doses, work, college, housing, staying well.",
                "The present relationship with the baby (code Being a mum).",
                "I want to be off it completely by the time she starts nursery.",
            ),
        ),
    ),
)


def walk_codes(codes: tuple[DemoCode, ...] = CODEBOOK) -> list[tuple[DemoCode, DemoCode | None]]:
    """Every code with its parent, depth first."""
    out: list[tuple[DemoCode, DemoCode | None]] = []
    for code in codes:
        out.append((code, None))
        out.extend((child, code) for child in code.children)
    return out


def theme_of(key: str) -> str:
    """The top-level theme (framework column) a code key belongs to."""
    for code, parent in walk_codes():
        if code.key == key:
            return (parent or code).key
    raise KeyError(key)


@dataclass(frozen=True)
class Exchange:
    """One question and answer. The answer is coded ``code`` (and ``also`` if given);
    ``summary`` is what a framework cell says about it. ``path`` limits it to women whose
    baby stayed with them ("kept"), was placed with them ("placement") or was separated
    from them ("separated")."""

    code: str
    question: str
    answer: str
    summary: str
    also: str | None = None
    path: str | None = None


# {social}: social work (Scotland) or social services (England);
# {meeting}: the child protection planning meeting or the pre-birth conference.
EXCHANGES: dict[int, tuple[Exchange, ...]] = {
    1: (
        Exchange(
            "booking",
            "Can you tell me how you found out you were pregnant and what happened next?",
            "I'd missed a couple of months but I put it down to the gear. By the time I "
            "did a test I was about fourteen weeks. I didn't go to the doctor straight away "
            "because I thought they'd phone {social} the minute I walked in.",
            "Booked late; feared an automatic referral to {social}.",
            also="social-work",
        ),
        Exchange(
            "booking",
            "Who did you see first about the pregnancy?",
            "My keyworker at the drug service actually. She walked me over to the "
            "maternity bit the same week, so I didn't have to phone anybody. That made it "
            "a lot easier to go.",
            "First contact made through the drug service keyworker, who walked her over.",
            also="keyworker",
        ),
        Exchange(
            "midwife",
            "What is it like seeing the specialist midwife?",
            "She's lovely, honestly. She doesn't rush me, she asks about me and not just "
            "the bump. She gave me her mobile so I can text if I can't make it instead of "
            "just getting a letter saying I missed it.",
            "Specialist midwife unhurried and reachable by text; felt listened to.",
            also="relational",
        ),
        Exchange(
            "ost",
            "Has anything changed with your prescription since you found out?",
            "They talked about bringing my methadone down but the midwife said it's safer "
            "to stay stable while I'm pregnant. I was relieved, I was terrified of "
            "rattling and what that would do to the baby.",
            "Advised to stay stable on methadone; relieved, feared withdrawal.",
        ),
        Exchange(
            "judged",
            "How have you found the appointments at the hospital?",
            "The scan was awful. The woman read my notes and her whole face changed. She "
            "didn't say anything, she didn't have to. I just wanted to get out of there.",
            "Felt judged at the scan once her notes were read.",
        ),
        Exchange(
            "trauma",
            "You mentioned your older children earlier. How does that sit with this pregnancy?",
            "My first two were taken and I never really got over it. Walking into the same "
            "hospital brought it all back. Nobody asked me about that, they just wanted to "
            "know what I was using.",
            "Earlier removals resurfaced on returning to the same hospital; not asked about it.",
        ),
        Exchange(
            "social-work",
            "Has {social} been in touch yet?",
            "They came out to the flat for an assessment. She was fine, polite, but you "
            "know every answer is going in a report. I tidied for two days before she came.",
            "Pre-birth assessment felt like being tested; prepared anxiously.",
        ),
        Exchange(
            "mum",
            "What are you hoping for, with this baby?",
            "I just want the chance to be her mum. Not perfect, just a chance. I've been "
            "getting the room ready a bit at a time.",
            "Wants the chance to be a mother; preparing a room for the baby.",
        ),
    ),
    2: (
        Exchange(
            "meetings",
            "Can you tell me about {meeting}?",
            "There were so many people round the table and I'd only met two of them. They "
            "talked about me in words I didn't understand. My midwife squeezed my hand "
            "under the table, that's the only reason I didn't walk out.",
            "Overwhelmed at {meeting}; midwife's presence kept her there.",
            also="midwife",
        ),
        Exchange(
            "social-work",
            "How are things with the social worker now?",
            "Better, to be fair. She's been straight with me about what they need to see, "
            "clean tests and keeping appointments. At least I know where I stand now.",
            "Clearer expectations from the social worker; knows where she stands.",
        ),
        Exchange(
            "mab",
            "Has there been any talk about where you and the baby will go after the birth?",
            "They said a mother and baby place might be the way to keep her with me, but "
            "there's a waiting list and it's miles away. I don't know if I'd get it in time.",
            "Mother-and-baby placement offered in principle; waiting list and distance.",
        ),
        Exchange(
            "relational",
            "Is there anyone who has made a difference so far?",
            "The nurse at the clinic. She treats me like any other pregnant woman. She "
            "remembered the baby's name I'd picked, little things like that matter.",
            "Clinic nurse treated her like any other pregnant woman.",
        ),
        Exchange(
            "lead",
            "How well do the different services work together for you?",
            "My midwife is sort of the boss of it all. She phones the drug service and "
            "{social} so I don't have to tell everybody everything. One plan, one person.",
            "Specialist midwife acts as lead professional; one plan, one person.",
            also="midwife",
        ),
        Exchange(
            "ost",
            "How have you been on your prescription these last weeks?",
            "They split my dose because I was getting sick in the evenings, which has "
            "really helped. I still pick up every day from the chemist, which is hard "
            "when you're this big.",
            "Split dose helped late-pregnancy symptoms; daily pick-up a burden.",
        ),
        Exchange(
            "repeating",
            "Have you had to see any new services recently?",
            "Another new worker from housing. Same questions again: how long have you "
            "used, how many kids, where are they now. I must have told it ten times.",
            "Retold her history to yet another new worker.",
        ),
        Exchange(
            "trauma",
            "How are you feeling as the birth gets closer?",
            "Scared. Last time they took him from the ward. I can't sleep thinking it "
            "will happen again, and nobody has said it won't.",
            "Fear of a repeat removal from the ward as birth approaches.",
            also="removal",
        ),
    ),
    3: (
        Exchange(
            "ward",
            "Can you tell me about the birth and the days on the ward?",
            "The birth itself was fine, quick. But on the ward nobody knew about my "
            "methadone, so I waited hours for my dose and I was rattling with a newborn. "
            "I had to keep asking.",
            "Dose delayed on the postnatal ward; ward not told about her treatment.",
            also="ost",
        ),
        Exchange(
            "nas",
            "How was the baby after the birth?",
            "They scored her every four hours and I held my breath every time. She needed "
            "a bit of morphine for a few days. The neonatal nurses showed me how to settle "
            "her, skin to skin, and that helped both of us.",
            "Baby scored and treated for withdrawal; nurses taught soothing, skin to skin.",
        ),
        Exchange(
            "discharge",
            "How did leaving the hospital go?",
            "We weren't allowed home until the meeting on day five. Everybody was nice "
            "enough but it felt like I was waiting for a verdict.",
            "Discharge waited on a day-five meeting; felt like awaiting a verdict.",
            also="meetings",
        ),
        Exchange(
            "judged",
            "Were there moments on the ward that stayed with you?",
            "One of the night staff talked about me to another nurse like I wasn't there, "
            "'that's the methadone mum'. I pulled the curtain round and cried.",
            "Labelled by night staff on the ward; felt humiliated.",
        ),
        Exchange(
            "relational",
            "Was there anyone on the ward who helped?",
            "The midwife who delivered her came back the next day just to see how we were. "
            "She didn't have to. That's the bit I'll remember.",
            "Delivering midwife returned to check on her; remembered as kindness.",
        ),
        Exchange(
            "mab",
            "Where did you go after the hospital?",
            "The mother and baby unit came through a week before she was born. It's strict, "
            "they check everything, but she's with me and that's all I care about.",
            "Moved to a mother-and-baby unit with the baby; strict but together.",
            path="placement",
        ),
        Exchange(
            "removal",
            "Can you tell me what happened when you left the hospital?",
            "They'd decided before she was born. She went to a foster carer from the "
            "hospital and I went home to an empty flat with the cot still up.",
            "Baby placed in foster care from hospital; returned home alone.",
            path="separated",
        ),
        Exchange(
            "drop-off",
            "What support have you had since you got home?",
            "Loads before, nothing after. The specialist midwife signed me off at six "
            "weeks, and the drug service went back to once a month.",
            "Specialist midwife discharged at six weeks; drug service contact reduced.",
            path="kept",
        ),
    ),
    4: (
        Exchange(
            "drop-off",
            "How has support been over the last few months?",
            "It's like a cliff edge. Everybody was there while I was pregnant and now it's "
            "just me and the health visitor. I understand they've got other women, but.",
            "Support fell away after the birth: a cliff edge.",
        ),
        Exchange(
            "after-removal",
            "What help did you get after the baby went into care?",
            "Nothing, really. Once she was gone nobody phoned. I had to find a group "
            "myself, a peer group for mums in the same boat, and that's what got me "
            "through.",
            "No support after removal; found a peer group herself.",
            path="separated",
        ),
        Exchange(
            "removal",
            "How is contact with your baby going?",
            "Three times a week at the centre, supervised. I live for those hours. The "
            "foster carer sends photos now, which she didn't at first.",
            "Supervised contact three times a week; foster carer now shares photos.",
            path="separated",
        ),
        Exchange(
            "community",
            "Who do you see most now?",
            "The health visitor. She's the one person who asks how I am, not just how the "
            "baby is weighing. She got me into a baby massage group.",
            "Health visitor asks about her as well as the baby; linked her to a group.",
            path="kept",
        ),
        Exchange(
            "community",
            "What has life in the placement been like?",
            "Hard at first, all the rules. But the staff there have taught me loads and I "
            "get to do the night feeds myself now. We're talking about moving on.",
            "Growing independence in the placement; planning to move on.",
            also="mab",
            path="placement",
        ),
        Exchange(
            "lead",
            "Is anyone co-ordinating things for you now?",
            "Not really. The midwife used to, but now it's the health visitor, the drug "
            "worker and the social worker and none of them talk to each other.",
            "No one co-ordinating since the midwife left; services not talking.",
            also="repeating",
        ),
        Exchange(
            "trauma",
            "Have the last months brought anything back for you?",
            "It's been a lot. My counsellor says it's the old stuff coming up, from when I "
            "was in care myself. It's the first time anybody has joined those dots for me.",
            "Counsellor linked current distress to her own care experience.",
        ),
        Exchange(
            "recovery",
            "How are you getting on with your own treatment?",
            "I've come down ten mils since the summer. Slowly, my choice. I want to do it "
            "properly this time.",
            "Reducing methadone slowly, at her own pace.",
            also="ost",
        ),
    ),
    5: (
        Exchange(
            "recovery",
            "Looking back over the last year and a half, what has changed for you?",
            "Everything. I've got a tenancy of my own now and I'm doing a college course "
            "two days a week. I want to be off it completely by the time she starts "
            "nursery.",
            "Own tenancy and college course; aims to finish treatment.",
        ),
        Exchange(
            "mum",
            "What is it like being a mum now?",
            "She's walking, she's into everything. When she smiles at me I know I'm doing "
            "something right. I still feel like people are watching, but less.",
            "Pride in being a mother; feels watched less.",
            path="kept",
        ),
        Exchange(
            "mum",
            "How do you think about being a mum now?",
            "I'm still her mum, even if she lives with my sister. I see her every week and "
            "I do her bath. I'm not giving up on that.",
            "Still a mother to a child in kinship care; weekly contact.",
            also="removal",
            path="separated",
        ),
        Exchange(
            "community",
            "Who is around you for support these days?",
            "The peer group mostly. Women who've been through it. And a family support "
            "worker at the hub, she helps with forms and that.",
            "Peer group and a community hub support worker.",
        ),
        Exchange(
            "after-removal",
            "Has anything helped with the loss?",
            "Honestly, time and the group. The hospital never followed up. I think "
            "there should be someone whose job it is, just for mums like us.",
            "Loss eased by time and peers; wants a dedicated post-removal role.",
            path="separated",
        ),
        Exchange(
            "relational",
            "If you could say one thing to the services you've met, what would it be?",
            "Talk to us like people. The ones who did that, I'd walk through fire for them. "
            "The ones who didn't, I just stopped going.",
            "Engagement followed respect; stopped attending where judged.",
            also="judged",
        ),
        Exchange(
            "repeating",
            "How has it been dealing with services over the whole time?",
            "Tiring. Every year there's new faces and the same forms. If they just "
            "shared things I wouldn't have to go through it all again.",
            "Tired of repeating her history to new workers each year.",
            also="lead",
        ),
        Exchange(
            "drop-off",
            "Is there support you wish you'd had?",
            "After the first few weeks, something, anything. That's when it was hardest "
            "and that's exactly when everybody stepped back.",
            "Wanted support in the weeks after birth, when services stepped back.",
        ),
    ),
}


FOCUS_GROUP_LINES: tuple[tuple[str, str, str | None], ...] = (
    (
        FACILITATOR,
        "Thank you all for coming. Let's start with the days around birth: what works well?",
        None,
    ),
    (
        "Speaker 1",
        "When the plan is written before she comes in, it works. The ward knows her dose, "
        "the neonatal team knows to score the baby, and nobody is surprised.",
        "lead",
    ),
    (
        "Speaker 2",
        "From the neonatal side, keeping mum and baby together on transitional care makes "
        "the biggest difference. Skin to skin does more than a lot of our medicine.",
        "nas",
    ),
    (
        FACILITATOR,
        "And what gets in the way?",
        None,
    ),
    (
        "Speaker 3",
        "Night shifts. The attitude can change completely. You hear comments at handover "
        "that undo weeks of work building trust with a woman.",
        "judged",
    ),
    (
        "Speaker 4",
        "And discharge. We hold women until the meeting, which I understand, but for her "
        "it feels like a sentence being read out.",
        "discharge",
    ),
    (
        "Speaker 1",
        "The other gap is afterwards. Our caseload ends at six weeks. If the baby has gone "
        "into care, she has nobody from that day.",
        "after-removal",
    ),
    (
        "Speaker 2",
        "We've no follow-up for those women at all. It's the hardest point and we step back.",
        "drop-off",
    ),
)
FOCUS_GROUP_ROLES = ("Specialist midwife", "Neonatal nurse", "Ward midwife", "Social worker")


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    code: str | None = None
    also: str | None = None
    summary: str = ""


@dataclass(frozen=True)
class Transcript:
    """A transcript's text and, for each coded answer, its span and codes."""

    text: str
    passages: tuple[tuple[int, int, str, str | None, str], ...]  # start, end, code, also, summary


def _fill(text: str, scottish: bool) -> str:
    return text.format(
        social="social work" if scottish else "social services",
        meeting=(
            "the child protection planning meeting" if scottish else "the pre-birth conference"
        ),
    )


def pick_exchanges(
    pseudonym: str, wave: int, path: str, *, scottish: bool, count: int = 4
) -> list[Turn]:
    """The exchanges of one woman's interview at one wave, chosen reproducibly."""
    rng = random.Random(f"{pseudonym}/{wave}")
    pool = [e for e in EXCHANGES[wave] if e.path in (None, path)]
    specific = [e for e in pool if e.path is not None]
    general = [e for e in pool if e.path is None]
    chosen = specific[:1] + rng.sample(general, min(count - len(specific[:1]), len(general)))
    rng.shuffle(chosen)
    turns: list[Turn] = []
    for item in chosen:
        turns.append(Turn(INTERVIEWER, _fill(item.question, scottish)))
        turns.append(
            Turn(
                PARTICIPANT,
                _fill(item.answer, scottish),
                item.code,
                item.also,
                _fill(item.summary, scottish),
            )
        )
    return turns


def render(turns: list[Turn], *, heading: str) -> Transcript:
    """The transcript text (notice, heading, one ``Speaker: words`` line per turn, a blank
    line between turns) and the span of every coded turn's words."""
    parts = [SYNTHETIC_NOTICE, heading, ""]
    text = "\n".join(parts)
    passages: list[tuple[int, int, str, str | None, str]] = []
    for turn in turns:
        line = f"{turn.speaker}: "
        start = len(text) + len(line)
        text += line + turn.text
        if turn.code is not None:
            passages.append((start, len(text), turn.code, turn.also, turn.summary))
        text += "\n\n"
    return Transcript(text.rstrip("\n") + "\n", tuple(passages))


def interview(
    pseudonym: str, wave: int, wave_name: str, path: str, *, scottish: bool
) -> Transcript:
    closing = [
        Turn(INTERVIEWER, "Is there anything else you'd like to tell me?"),
        Turn(PARTICIPANT, "No, I think that's everything. Thanks for listening."),
    ]
    opening = [
        Turn(
            INTERVIEWER,
            f"Thanks for meeting me again. This is the wave {wave} interview, {wave_name.lower()}.",
        ),
        Turn(PARTICIPANT, "That's alright."),
    ]
    turns = opening + pick_exchanges(pseudonym, wave, path, scottish=scottish) + closing
    return render(turns, heading=f"Interview with {pseudonym}, wave {wave} ({wave_name}).")


def focus_group(site_name: str, topic: str) -> Transcript:
    turns = [Turn(speaker, words, code, summary="") for speaker, words, code in FOCUS_GROUP_LINES]
    return render(turns, heading=f"Staff focus group, {site_name}: {topic}.")


# Two interviews awaiting de-identification review. The names, places and numbers are
# invented (the phone number is in Ofcom's drama range, the NHS number starts 999).
REVIEW_TRANSCRIPTS: tuple[tuple[str, ...], ...] = (
    (
        "Interviewer: Thanks for meeting me. How have the first weeks of pregnancy been?",
        "Participant: Up and down. My partner Darren Brackley has been good, he comes to "
        "the appointments at Homerton Hospital with me.",
        "Interviewer: Who else is around to support you?",
        "Participant: My mum, Gemma Elstow, lives over in Hackney. She says ring her any time "
        "on 07700 900461.",
        "Interviewer: Has anything been difficult?",
        "Participant: The letters. They sent one to 12 Example Street, E8 3ZZ, with my NHS "
        "number 999 123 4560 on it for anyone to see.",
    ),
    (
        "Interviewer: How have things been since we last spoke?",
        "Participant: Busy. I moved to Kilmarnock in March to be nearer my sister Rhona.",
        "Interviewer: And the baby?",
        "Participant: Kayden's doing great. Dr Farrant at Crosshouse Hospital says he's "
        "putting on weight.",
        "Interviewer: How is it with social work?",
        "Participant: Fine. My worker, Leanne Gilroy, emails me at leanne.gilroy@example.org "
        "if anything changes.",
    ),
)


def review_text(index: int, pseudonym: str) -> str:
    """The raw text of a transcript awaiting review (it carries synthetic identifiers)."""
    lines = REVIEW_TRANSCRIPTS[index]
    heading = f"Interview with {pseudonym}, awaiting de-identification review."
    return "\n".join([SYNTHETIC_NOTICE, heading, "", "\n\n".join(lines)]) + "\n"


MEMOS: tuple[tuple[str, str, str | None], ...] = (
    (
        "Support drops off after birth",
        "Across the later waves the demo accounts describe intense contact in pregnancy and a "
        "sharp fall after six weeks, sharpest for women separated from their babies. Check "
        "this against the staff focus group, where staff name the same gap.",
        "drop-off",
    ),
    (
        "Relational care and engagement",
        "Where a named professional is experienced as respectful, women describe keeping "
        "appointments; where they feel judged they describe withdrawing. Keep the two child "
        "codes apart when coding: the code is about the relationship, not the service.",
        "relational",
    ),
    (
        "Coding the codebook: trauma",
        "Code earlier removals under Trauma and past experiences only when she links them to "
        "present care; otherwise they are context for the case, recorded as a variable.",
        "trauma",
    ),
    (
        "About this demo",
        "Every transcript in this demo study was written for the demo. Nothing here is a "
        "finding: the memos show how analytic notes look, not what the study found.",
        None,
    ),
)
