"""Phrases that tell a question is about something the knowledge base does not answer: small talk
and near-miss procedures. Constant tables only; `services.faq.guards` applies them."""

from __future__ import annotations

# Talk that is not about public services (weather, sport, lottery, prices, love, insults, the bot
# itself). Matched on the question's words before any filler is dropped, with their marks when typed
# with marks ("người yếu thế" is not "người yêu"); a phrase counts only when the best entry does not
# itself use its topic words ("trúng xổ số" is a scam an entry explains), and then the bot says it
# doesn't know instead of guessing from the one common word left. Single words only where no
# public-service word folds the same way ("ngu" alone could be "nhập ngũ", "cút" could be "cụt").
OFF_TOPIC_PHRASES: tuple[str, ...] = (
    "thời tiết",
    "dự báo mưa",
    "trời mưa",
    "trời nắng",
    "bóng đá",
    "đá bóng",
    "trận đấu",
    "xổ số",
    "kqxs",
    "vietlott",
    "giá vàng",
    "vàng sjc",
    "tỷ giá",
    "chứng khoán",
    "cổ phiếu",
    "bitcoin",
    "tiền ảo",
    "tử vi",
    "phong thủy",
    "xem bói",
    "cung hoàng đạo",
    "người yêu",
    "tình yêu",
    "yêu anh",
    "yêu em",
    "thích anh",
    "thích em",
    "nhớ em",
    "nhớ anh",
    "hẹn hò",
    "tên gì",
    "là người hay máy",
    "kể chuyện",
    "chuyện cười",
    "hát cho",
    "bài hát",
    "xem phim",
    "chơi game",
    "nấu ăn",
    "món ăn",
    "cách nấu",
    "giảm cân",
    "đồ ngu",
    "mày ngu",
    "bot ngu",
    "ngu như",
    "ngu vl",
    "vcl",
    "đm",
    "đmm",
)

# Procedures and documents the knowledge base does not cover whose names share words with an entry
# ("sơ yếu lý lịch" with "lý lịch tư pháp", "chứng thực chữ ký" with "chứng thực bản sao"). Matched
# like OFF_TOPIC_PHRASES; when the top entry does not use the phrase's words, the bot offers choices
# (with the hand-off) instead of answering the neighbour as if it were the thing asked.
NEAR_MISS_PHRASES: tuple[str, ...] = (
    "sơ yếu lý lịch",
    "lái xe quốc tế",
    "bằng tốt nghiệp",
    "chứng thực chữ ký",
    "đại sứ quán",
    "lãnh sự",
    "thai sản",
    "hộ chiếu công vụ",
    "hộ chiếu ngoại giao",
    "thị thực",
    "bảo hiểm xe",
    "bảo hiểm nhân thọ",
    "thẻ thư viện",
)
