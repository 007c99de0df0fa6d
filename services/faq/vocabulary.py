"""The FAQ vocabulary of citizens' Vietnamese: tone marks, abbreviations and teen-code, word
pairs read as one, and the filler (question words, politeness, end particles) that carries no
topic. Constant tables only; `services.faq.text` applies them."""

from __future__ import annotations

from collections.abc import Mapping

CONSONANTS = frozenset("bcdghklmnpqrstvxđ")
# Vietnamese tone marks (as combining characters); the other marks (â ă ê ô ơ ư) stay in the stem.
TONES: Mapping[str, str] = {
    "\u0300": "2",
    "\u0301": "1",
    "\u0309": "3",
    "\u0303": "4",
    "\u0323": "5",
    "\u0340": "2",
    "\u0341": "1",
}

# Abbreviations and teen-code, keyed by the folded token (no diacritics, lower case).
ABBREVIATIONS: Mapping[str, str] = {
    # negation, "được", common verbs and particles
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "khg": "khong",
    "kg": "khong",
    "k0": "khong",
    "hok": "khong",
    "hk": "khong",
    "khum": "khong",
    "hum": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dky": "dang ky",
    "dki": "dang ky",
    "dangky": "dang ky",
    "dduoc": "duoc",
    "lm": "lam",
    "j": "gi",
    "ji": "gi",
    "z": "vay",
    "dzay": "vay",
    "zay": "vay",
    "r": "roi",
    "oy": "roi",
    "s": "sao",
    "ntn": "nhu the nao",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "nhiu": "nhieu",
    "bik": "biet",
    "bit": "biet",
    "wa": "qua",
    "vs": "voi",
    "ms": "moi",
    "trc": "truoc",
    "ng": "nguoi",
    "mn": "moi nguoi",
    # people
    "e": "em",
    "mik": "minh",
    "mjk": "minh",
    "mh": "minh",
    "t": "toi",
    "b": "ban",
    "m": "minh",
    "ad": "admin",
    "cty": "cong ty",
    # documents, agencies and services
    "cccd": "can cuoc cong dan",
    "cc": "can cuoc",
    "cmnd": "chung minh nhan dan",
    "cmt": "chung minh nhan dan",
    "lltp": "ly lich tu phap",
    "gks": "giay khai sinh",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "bhtn": "bao hiem that nghiep",
    "bh": "bao hiem",
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "dvcqg": "dich vu cong quoc gia",
    "tthc": "thu tuc hanh chinh",
    "gplx": "giay phep lai xe",
    "blx": "bang lai xe",
    "ubnd": "uy ban nhan dan",
    "ub": "uy ban",
    "gcn": "giay chung nhan",
    "qsdd": "quyen su dung dat",
    "gcnqsdd": "giay chung nhan quyen su dung dat",
    "xnthn": "xac nhan tinh trang hon nhan",
    "xntthn": "xac nhan tinh trang hon nhan",
    "tthn": "tinh trang hon nhan",
    "hkd": "ho kinh doanh",
    "dkkd": "dang ky kinh doanh",
    "csgt": "canh sat giao thong",
    "xkld": "xuat khau lao dong",
    "hs": "ho so",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dth": "dien thoai",
    "tk": "tai khoan",
    "mk": "mat khau",
    "pass": "mat khau",
    "password": "mat khau",
    "ck": "chuyen khoan",
    "nc": "nuoc",
    "bv": "benh vien",
    "sv": "sinh vien",
    "fb": "facebook",
    "zl": "zalo",
    "mxh": "mang xa hoi",
    "app": "ung dung",
    "online": "truc tuyen",
    "onl": "truc tuyen",
    "vnid": "vneid",
    "passport": "ho chieu",
    "atm": "the atm",
    "ks": "khai sinh",
    "qg": "quoc gia",
    "dkks": "dang ky khai sinh",
    "gkt": "giay khai tu",
    "sdd": "so do",
    # People name the model, not the kind of vehicle: "mua lại con Wave", "chiếc Vision".
    "wave": "xe may",
    "sh": "xe may",
    "vision": "xe may",
    "dream": "xe may",
    "airblade": "xe may",
    "exciter": "xe may",
    "sirius": "xe may",
    "jupiter": "xe may",
    "vespa": "xe may",
    "winner": "xe may",
    "cub": "xe may",
    "honda": "xe may",
    "yamaha": "xe may",
    "vinfast": "xe",
    # more teen-code and officials' shorthand
    "bt": "biet",
    "ns": "noi",
    "nt": "nhan tin",
    "vk": "vo",
    "bs": "bac si",
    "lx": "lai xe",
    "xm": "xe may",
    "mst": "ma so thue",
    "tncn": "thu nhap ca nhan",
    "ttncn": "thue thu nhap ca nhan",
    "ddcn": "dinh danh ca nhan",
    "gpxd": "giay phep xay dung",
    "nvqs": "nghia vu quan su",
    "btxh": "bao tro xa hoi",
    "tcxh": "tro cap xa hoi",
    "tctn": "tro cap that nghiep",
    "cqt": "co quan thue",
    "dkkh": "dang ky ket hon",
    "stk": "so tai khoan",
    "cx": "cung",
    "ctv": "cong tac vien",
    "xnct": "xac nhan cu tru",
    "htx": "hop tac xa",
    "shk": "so ho khau",
}

# Regional and colloquial words read as the standard word, keyed by their spelling with marks:
# Southern "xài" (dùng), "lãnh" (lĩnh), "sanh" (sinh), "má" (mẹ), "tía" (cha), "bịnh" (bệnh),
# "thiệt" (thật). Typed without marks they count only when listed in REGIONAL_UNMARKED ("ma"
# without marks is as often "mã", a code).
REGIONAL_WORDS: Mapping[str, str] = {
    "xài": "dùng",
    "lãnh": "lĩnh",
    "sanh": "sinh",
    "má": "mẹ",
    "tía": "cha",
    "bịnh": "bệnh",
    "thiệt": "thật",
    "hổng": "không",
    "dìa": "về",
    "đẻ": "sinh",
    "vô": "vào",  # "nhập vô", "vô lớp 1"; without marks "vo" is a wife
    "mần": "làm",
    "đặng": "để",
    "chết": "mất",  # the knowledge base says "mất" (died)
}
REGIONAL_UNMARKED = frozenset({"xai", "sanh", "lanh", "thiet", "chet"})

# Expansions that must keep the marks of the word meant: "b" is "bạn" (filler), not "bán".
EXPANDED_ACCENTS: Mapping[str, str] = {"ban": "bạn"}

# "phường" is a commune-level unit like "xã" and is folded into it, but "phương" in "đơn phương",
# "địa phương", "phương tiện" is another word: typed without marks, its neighbours tell.
WARD = "phuong"
NOT_WARD_BEFORE = frozenset({"don", "dia", "da", "song", "dong", "tay", "nam", "bac"})
NOT_WARD_AFTER = frozenset({"tien", "an", "phap", "thuc", "trinh", "huong", "cham"})

# Voice typing spells an acronym out letter by letter, as the phone heard its letters' names —
# English ("vi en ai di" = VNeID, "vi ét ét ai đi" = VssID) or Vietnamese ("xê xê xê đê" = CCCD,
# "bê hát y tê" = BHYT). Folded letter names -> the letters they may stand for; a run of three or
# more of them that spells one of ACRONYMS becomes that word (services/faq/text.py, `_spelled`).
LETTER_NAMES: Mapping[str, str] = {
    "a": "a",
    "ay": "a",
    "be": "b",
    "bi": "b",
    "xe": "c",
    "xi": "c",
    "ce": "c",
    "si": "cs",
    "de": "d",
    "di": "dz",
    "e": "e",
    "i": "ei",
    "ep": "f",
    "gi": "g",
    "ge": "g",
    "gie": "g",
    "hat": "h",
    "et": "hs",
    "ech": "hs",
    "ai": "i",
    "ca": "k",
    "cay": "k",
    "ka": "k",
    "eo": "l",
    "el": "l",
    "em": "m",
    "mo": "m",
    "en": "n",
    "no": "n",
    "o": "o",
    "ou": "o",
    "pe": "p",
    "pi": "p",
    "quy": "q",
    "kiu": "q",
    "er": "r",
    "ti": "t",
    "te": "t",
    "u": "u",
    "diu": "u",
    "iu": "u",
    "ve": "v",
    "vi": "v",
    "ich": "x",
    "y": "y",
    "oai": "y",
    "zet": "z",
    "det": "z",
}
ACRONYMS = frozenset(
    {
        "vneid",
        "vnid",
        "vssid",
        "cccd",
        "cmnd",
        "bhyt",
        "bhxh",
        "gplx",
        "gks",
        "ubnd",
        "dvc",
        "lltp",
        "otp",
        "atm",
        "sim",
        "qr",
        "ekyc",
        "vnpt",
        "etax",
    }
)

# Word pairs rewritten as a whole, mostly into one token because the parts are ambiguous once
# folded ("cửa" = "của", "căn" = "cần", "đỏ" = "đó", "ánh" = "anh", "hội" = "hỏi") or because
# users write them joined; a few are plain synonyms ("trên mạng" = "trực tuyến").
COMPOUNDS: Mapping[tuple[str, str], str] = {
    ("mot", "cua"): "motcua",
    ("can", "cuoc"): "cancuoc",
    ("so", "do"): "sodo",
    ("so", "hong"): "sodo",  # "sổ hồng" and "sổ đỏ" are one certificate since 2009
    # "bìa đỏ", "bìa hồng" are what people call the same certificate
    ("bia", "do"): "sodo",
    ("bia", "hong"): "sodo",
    ("o", "to"): "oto",
    ("vn", "eid"): "vneid",
    # app names as voice typing writes them: "da lô" / "za lô" (Zalo), "i tắc" (eTax), "mô bai" (mobile)
    ("da", "lo"): "zalo",
    ("za", "lo"): "zalo",
    ("i", "tac"): "etax",
    ("mo", "bai"): "mobile",
    ("vn", "id"): "vneid",
    ("ca", "vet"): "cavet",
    ("ca", "ve"): "cavet",
    ("ban", "sao"): "bansao",
    ("truoc", "ba"): "truocba",  # "trước bạ"; apart, "ba" is a father and "trước" is "before"
    ("sao", "y"): "saoy",
    ("ban", "chinh"): "banchinh",
    ("ban", "be"): "banbe",
    ("uy", "ban"): "uyban",
    ("phan", "anh"): "phananh",
    ("chung", "minh"): "chungminh",
    ("xa", "hoi"): "xahoi",
    ("moi", "de"): "moide",
    ("vua", "de"): "moide",
    ("tren", "mang"): "truc tuyen",
    ("qua", "mang"): "truc tuyen",
    ("thi", "tran"): "xa",
    # "sáp nhập", "sắp xếp" (the 2025 merger): typed without marks "sap" would be dropped as
    # "sắp" (about to)
    ("sap", "nhap"): "sapnhap",
    ("sap", "xep"): "sapxep",
    # "đăng nhập" (log in) is neither "đăng ký" nor "nhập" (hộ khẩu)
    ("dang", "nhap"): "dangnhap",
    # Having none of something is a situation of its own ("không có lương hưu", "chưa có sổ đỏ",
    # "không còn sổ gốc"); "không" alone is filler, so the pair is kept as one word.
    ("khong", "co"): "khongco",
    ("chua", "co"): "khongco",
    ("khong", "con"): "khongcon",
    # one concept, several wordings
    ("bang", "lai"): "giay phep lai",
    ("qua", "doi"): "mat",
    ("tu", "tran"): "mat",
    ("tu", "vong"): "mat",
    # someone "tự xưng" / "xưng là" / "mạo danh" an official is posing as one ("giả danh")
    ("tu", "xung"): "gia danh",
    ("xung", "la"): "gia danh",
    ("xung", "ben"): "gia danh",
    ("mao", "danh"): "gia danh",
    ("air", "blade"): "xe may",
    # being single is one situation however it is said ("chưa vợ", "chưa chồng", "độc thân");
    # "chưa" alone is filler, so "xác nhận chưa vợ" would otherwise be about a wife
    ("chua", "vo"): "doc than",
    ("chua", "chong"): "doc than",
    # "xã mới", "tỉnh mới" (a ward is read as "xã" first) mean the units after the 2025 merger
    ("xa", "moi"): "xa sapnhap",
    ("tinh", "moi"): "tinh sapnhap",
}

# "mất" is both "died" (the knowledge base's word for it) and "lost". Next to a thing one carries
# (after the pairs above are joined), or after "làm", "đánh", "bị", it is "lost": that reading gets
# its own word, so "mẹ em làm mất căn cước" does not point at death registration.
LOST = "thatlac"
LOST_BEFORE = frozenset({"lam", "danh", "bi", "roi"})
LOST_OBJECTS = frozenset(
    {"cancuoc", "chungminh", "giay", "the", "bang", "sodo", "vi", "sim", "xe", "cavet", "bansao", "so"}
)
# Objects of two words: "điện thoại" (not "mất điện", a power cut), "tài khoản", "hộ chiếu/khẩu".
LOST_PAIRS = frozenset({("dien", "thoai"), ("tai", "khoan"), ("ho", "chieu"), ("ho", "khau")})
# "để lại" (left) a piece of land, a house, a certificate is an inheritance ("thừa kế"), whoever died.
BEQUEATHED = frozenset({"dat", "nha", "sodo", "tai"})  # "tài sản"
BEQUEST = "thua ke"
# Words that may stand between "mất" and the thing ("mất hết giấy tờ", "mất cái ví").
LOST_SKIP = frozenset({"het", "cai", "chiec", "cuon", "tam", "ca", "mieng", "manh", "can", "lo"})

# Question words, time words and politeness that carry no topic ("làm sao", "ở đâu", "ạ").
FILLER_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "cho em hoi",
        "cho minh hoi",
        "cho toi hoi",
        "cho chau hoi",
        "cho hoi",
        "xin hoi",
        "nhu the nao",
        "lam the nao",
        "lam sao",
        "the nao",
        "ra sao",
        "nhu nao",
        "sao vay",
        "bang cach nao",
        "cach nao",
        "o dau",
        "cho nao",
        "noi nao",
        "tu dau",
        "bat dau",
        "can gi",
        "can nhung gi",
        "giay to gi",
        "nhung gi",
        "thu tuc",  # every entry is a procedure: the word itself tells nothing
        "kieu gi",
        "bao nhieu",
        "bao lau",
        "bao gio",
        "khi nao",
        "la gi",
        "co phai",
        "phai khong",
        "duoc khong",
        "co duoc",
        "nhu vay",
        "nhu the",
        "moi nguoi",
        "huong dan",
        "can phai",
        "can lam",
        "hom nay",
        "hom qua",
        "ngay mai",
        "bay gio",
    )
)

# Filler words as they are spelt with marks. A word typed with other marks is a different word
# and stays ("chợ" is not "cho", "rơi" is not "rồi", "sạp" is not "sắp").
FILLER_SPELLINGS = """
    a ạ à á ah ak dạ đã ơi ui nhé nhe nhen nè hì hihi hic hả ha ừ uh um ok oke okie alo chào
    hello admin không khong chưa rồi em anh chị mình tôi tới tối tui tao có cô cháu bác
    gì nào là và của cho với giúp giùm dùm xin hỏi muốn phải nếu những nhưng các này nay kia
    bị làm như về đến đi nhiều luôn nữa hay hoặc vào trong sau sẽ vẫn cũng rất cách cần ở
    trên lên xuống vừa sắp giờ để được ni nghen khi xong ai ra nhau sao
"""

# Filler only when typed with marks: without them they are content words ("thi", "mã", "đỏ").
# "bạn" is filler, but typed without marks "ban" is as often "bán" (sell) or "bản" (a copy).
# Central question words ("mô" where, "răng" how, "rứa" so, "chừ" now, "tê" there) and Southern
# "bả", "ổng" (she, he) are filler with their marks only: "mo" may be "mở", "rang" is "rằng".
MARKED_FILLER_SPELLINGS = "thì mà đó đấy bạn mô răng rứa chừ tê nớ hỉ bả ổng vầy nên"

# Words of the filler phrases that are not filler on their own, with their marks.
PHRASE_SPELLINGS = (
    FILLER_SPELLINGS
    + """
    thế sao ra đâu chỗ nơi từ bắt đầu gì giấy tờ thủ tục kiểu bao nhiêu lâu giờ khi
    hướng dẫn hôm nay qua ngày mai bây vậy nào bằng mọi người
"""
)

# Particles that are filler only at the end of a sentence ("vậy", "hả", "nha"); elsewhere,
# typed without marks, "vay" is a loan and "nha" a house.
END_PARTICLES: frozenset[str] = frozenset({"vay", "hem", "ha", "nhi", "chu", "ta", "nha"})
# "hông" closes a yes/no question ("được hông") but "hỏng" means broken: only after these words.
NEGATION_TAIL = frozenset({"hong", "hem"})
BEFORE_NEGATION_TAIL = frozenset({"duoc", "co", "phai", "roi", "biet", "khong", "chua"})
END_SPELLINGS = "vậy hả nha nhỉ chứ ta hông hem"
