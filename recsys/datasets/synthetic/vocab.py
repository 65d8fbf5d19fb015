"""Word lists that make the synthetic text carry the latent world.

Genre vocab names what a story is about; each latent style dimension has two poles with a few
near-synonyms each, so a sentence encoder maps items with similar styles to nearby vectors.
"""

from __future__ import annotations

# One (positive pole, negative pole) pair per latent dimension; dims beyond 16 wrap around.
STYLE_POLES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("dark", "grim", "brooding", "shadowy"), ("bright", "sunny", "cheerful", "luminous")),
    (
        ("fast-paced", "explosive", "relentless", "breakneck"),
        ("slow-burning", "meditative", "quiet", "patient"),
    ),
    (
        ("epic", "sweeping", "grand", "monumental"),
        ("intimate", "small-scale", "personal", "modest"),
    ),
    (("funny", "witty", "absurd", "playful"), ("serious", "somber", "earnest", "solemn")),
    (
        ("futuristic", "high-tech", "cybernetic", "neon"),
        ("historical", "period", "old-world", "vintage"),
    ),
    (
        ("urban", "big-city", "metropolitan", "street-level"),
        ("rural", "countryside", "wild", "pastoral"),
    ),
    (("romantic", "tender", "passionate", "heartfelt"), ("cold", "detached", "lonely", "isolated")),
    (("violent", "brutal", "bloody", "savage"), ("gentle", "peaceful", "soft", "harmless")),
    (
        ("mysterious", "enigmatic", "puzzling", "cryptic"),
        ("straightforward", "simple", "clear", "plain"),
    ),
    (
        ("family-friendly", "wholesome", "kid-friendly", "heartwarming"),
        ("mature", "adult", "provocative", "gritty"),
    ),
    (("musical", "rhythmic", "song-filled", "melodic"), ("silent", "wordless", "hushed", "still")),
    (("oceanic", "seafaring", "coastal", "underwater"), ("desert", "arid", "scorched", "dusty")),
    (
        ("supernatural", "magical", "otherworldly", "mystical"),
        ("realistic", "grounded", "true-to-life", "down-to-earth"),
    ),
    (
        ("hopeful", "uplifting", "inspiring", "triumphant"),
        ("tragic", "bleak", "despairing", "doomed"),
    ),
    (
        ("political", "conspiratorial", "corrupt", "power-hungry"),
        ("domestic", "everyday", "homely", "ordinary"),
    ),
    (("wintry", "icy", "frozen", "snowbound"), ("tropical", "summery", "sun-drenched", "balmy")),
)
WORDS_PER_POLE = 4

# Per genre: title nouns, places, protagonists, plots. Same length lists keep indexing simple.
GENRE_NOUNS: dict[str, tuple[str, ...]] = {
    "Action": ("Strike", "Fury", "Vendetta", "Showdown", "Mercenary", "Protocol"),
    "Adventure": ("Expedition", "Voyage", "Quest", "Compass", "Frontier", "Treasure"),
    "Animation": ("Doodle", "Critter", "Toybox", "Balloon", "Whisker", "Sprout"),
    "Comedy": ("Mixup", "Wedding", "Roommates", "Blunder", "Prank", "Weekend"),
    "Crime": ("Heist", "Syndicate", "Alibi", "Racket", "Informant", "Verdict"),
    "Documentary": ("Chronicle", "Witness", "Record", "Archive", "Testimony", "Portrait"),
    "Drama": ("Inheritance", "Homecoming", "Letters", "Promise", "Season", "Family"),
    "Fantasy": ("Dragon", "Sorcerer", "Kingdom", "Crown", "Spellbook", "Oracle"),
    "Horror": ("Haunting", "Curse", "Crypt", "Possession", "Nightmare", "Ritual"),
    "Romance": ("Heart", "Kiss", "Serenade", "Sweetheart", "Valentine", "Affair"),
    "Sci-Fi": ("Starship", "Android", "Colony", "Singularity", "Nebula", "Orbit"),
    "Thriller": ("Pursuit", "Deception", "Stranger", "Hostage", "Cover-up", "Trap"),
}
GENRE_PLACES: dict[str, tuple[str, ...]] = {
    "Action": ("Harbor", "Compound", "Highway", "Border"),
    "Adventure": ("Jungle", "Mountains", "Islands", "Canyon"),
    "Animation": ("Meadow", "Toyshop", "Treehouse", "Pond"),
    "Comedy": ("Suburbs", "Office", "Resort", "Diner"),
    "Crime": ("Docks", "Precinct", "Casino", "Underworld"),
    "Documentary": ("Reef", "Factory", "Village", "Glacier"),
    "Drama": ("Farmhouse", "Hospital", "Hometown", "Courtroom"),
    "Fantasy": ("Realm", "Citadel", "Forest", "Underhill"),
    "Horror": ("Asylum", "Cabin", "Cemetery", "Manor"),
    "Romance": ("Vineyard", "Bookshop", "Riviera", "Ballroom"),
    "Sci-Fi": ("Moonbase", "Megacity", "Void", "Outpost"),
    "Thriller": ("Motel", "Embassy", "Subway", "Penthouse"),
}
GENRE_HEROES: dict[str, tuple[str, ...]] = {
    "Action": ("a former soldier", "an elite bodyguard", "a getaway driver", "a rogue agent"),
    "Adventure": ("a young explorer", "a treasure hunter", "a ship's captain", "a cartographer"),
    "Animation": ("a curious fox", "a tiny robot", "a lost puppy", "a brave snail"),
    "Comedy": (
        "a clumsy best man",
        "two mismatched roommates",
        "a failed comedian",
        "a substitute teacher",
    ),
    "Crime": ("a veteran detective", "a safecracker", "a corrupt lawyer", "a mob accountant"),
    "Documentary": (
        "a team of scientists",
        "a family of farmers",
        "a group of musicians",
        "a wildlife filmmaker",
    ),
    "Drama": ("a grieving widow", "an estranged son", "a struggling nurse", "a retired teacher"),
    "Fantasy": ("an apprentice wizard", "an exiled princess", "a dragon rider", "an elven archer"),
    "Horror": (
        "a group of campers",
        "a paranormal investigator",
        "a new tenant",
        "a night-shift nurse",
    ),
    "Romance": ("a shy florist", "two old flames", "a travelling violinist", "a jaded novelist"),
    "Sci-Fi": ("a starship engineer", "a rogue android", "a colony doctor", "a time-lost pilot"),
    "Thriller": (
        "a witness in hiding",
        "an undercover journalist",
        "a hacked executive",
        "a paranoid analyst",
    ),
}
GENRE_PLOTS: dict[str, tuple[str, ...]] = {
    "Action": (
        "fights to stop a heist",
        "hunts down a warlord",
        "races to defuse a bomb",
        "battles a mercenary army",
    ),
    "Adventure": (
        "searches for a lost city",
        "crosses an uncharted sea",
        "follows an ancient map",
        "climbs a forbidden peak",
    ),
    "Animation": (
        "tries to find the way home",
        "befriends a lonely giant",
        "saves the forest friends",
        "learns to fly",
    ),
    "Comedy": (
        "ruins a wedding by accident",
        "fakes a road trip",
        "swaps lives for a week",
        "runs a disastrous restaurant",
    ),
    "Crime": (
        "plans one last robbery",
        "investigates a string of murders",
        "launders money for the mob",
        "uncovers a police cover-up",
    ),
    "Documentary": (
        "records a year of change",
        "follows a vanishing tradition",
        "investigates a hidden industry",
        "tracks a migration",
    ),
    "Drama": (
        "reconnects with a dying father",
        "fights to keep the family farm",
        "faces a painful verdict",
        "rebuilds a broken life",
    ),
    "Fantasy": (
        "seeks a stolen crown",
        "breaks an ancient curse",
        "tames a wild dragon",
        "defends a dying kingdom",
    ),
    "Horror": (
        "is stalked by a demon",
        "awakens a buried evil",
        "survives a cursed night",
        "hears voices in the walls",
    ),
    "Romance": (
        "falls for a rival",
        "rekindles a summer love",
        "writes letters to a stranger",
        "plans a wedding for an ex",
    ),
    "Sci-Fi": (
        "makes first contact",
        "escapes a dying planet",
        "rewrites the timeline",
        "uncovers an AI rebellion",
    ),
    "Thriller": (
        "uncovers a deadly conspiracy",
        "is framed for murder",
        "must survive one night",
        "decodes a stalker's messages",
    ),
}

# Review templates by rating 1..5; {w} = the item's strongest style word, {g} = genre (lowercase).
REVIEW_TEMPLATES: tuple[tuple[str, ...], ...] = (
    (
        "Terrible. I hated this {g} and turned it off halfway, a complete waste of time.",
        "Awful and boring. The {w} tone did nothing for me; I regret watching it.",
        "Worst {g} I have seen in years. Hated every minute.",
    ),
    (
        "Disappointing. Too {w} for my taste and the plot dragged.",
        "Not for me. A dull, forgettable {g} with a weak ending.",
        "Pretty bad. I expected more from a {w} {g}; mostly boring.",
    ),
    (
        "It was okay. Some {w} moments, but nothing special.",
        "An average {g}. Watchable once, a mixed bag overall.",
        "Fine, I guess. The {w} mood works sometimes, sometimes it does not.",
    ),
    (
        "Really enjoyed this one: {w} and well made.",
        "A good {g}. I liked the {w} atmosphere and the cast.",
        "Solid and entertaining {g}, would recommend it.",
    ),
    (
        "Absolutely loved it! The {w} mood kept me hooked from start to finish.",
        "A fantastic {g}, one of my favourites. Wonderful and {w}.",
        "Brilliant. A great {w} {g} that I will watch again.",
    ),
)
POSITIVE_WORDS = (
    "loved",
    "enjoyed",
    "good",
    "great",
    "fantastic",
    "brilliant",
    "recommend",
    "liked",
)
NEGATIVE_WORDS = ("terrible", "hated", "waste", "boring", "disappointing", "bad", "dull", "awful")
