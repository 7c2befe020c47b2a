//! The words of the simulated world: the topic tree and unit list of `common.md`, the
//! kapanewon and kalurahan of Kulon Progo with their codes, places (roads, schools,
//! puskesmas, markets) and complaint templates per topic, in Bahasa Indonesia.

/// (id, parent, name) of the standard deployment's topic tree; parent "0" is the root.
/// The ids are the simulator's canonical topic keys; another deployment serves the same
/// names under its own ids (see [`super::vocabulary`]). The simulator's own table: it
/// never borrows the connector's.
pub const TOPICS: &[(&str, &str, &str)] = &[
    ("1", "0", "Administrasi Kependudukan"),
    ("2", "0", "Kesehatan"),
    ("3", "0", "Pendidikan"),
    ("4", "0", "Pekerjaan Umum dan Penataan Ruang"),
    ("41", "4", "Jalan dan Jembatan"),
    ("42", "4", "Drainase"),
    ("43", "4", "Penerangan Jalan Umum"),
    ("5", "0", "Perhubungan"),
    ("6", "0", "Lingkungan Hidup dan Kehutanan"),
    ("61", "6", "Sampah"),
    ("7", "0", "Sosial"),
    ("8", "0", "Ketenagakerjaan"),
    ("9", "0", "Pertanian dan Pangan"),
    ("10", "0", "Perizinan dan Penanaman Modal"),
    ("11", "0", "Pariwisata dan Kebudayaan"),
    ("12", "0", "Ketenteraman dan Ketertiban Umum"),
    ("13", "0", "Penanggulangan Bencana"),
    ("14", "0", "Komunikasi dan Informatika"),
    ("15", "0", "Pemerintahan Kalurahan dan Dana Desa"),
    ("16", "0", "Kepegawaian"),
    ("17", "0", "Keuangan dan Pajak Daerah"),
    ("18", "0", "Perdagangan dan UMKM"),
    ("19", "0", "Kelautan dan Perikanan"),
    ("20", "0", "Lainnya"),
];

/// The units (OPD accounts) of Kulon Progo, upstream ids 2401 upward in this order.
pub const UNITS: &[&str] = &[
    "Sekretariat Daerah",
    "Sekretariat DPRD",
    "Inspektorat Daerah",
    "Dinas Pendidikan Pemuda dan Olah Raga",
    "Dinas Kesehatan",
    "Dinas Pekerjaan Umum Perumahan dan Kawasan Permukiman",
    "Dinas Sosial Pemberdayaan Perempuan dan Perlindungan Anak",
    "Dinas Pemberdayaan Masyarakat dan Kalurahan Pengendalian Penduduk dan Keluarga Berencana",
    "Dinas Pertanian dan Pangan",
    "Dinas Pertanahan dan Tata Ruang (Kundha Niti Mandala sarta Tata Sasana)",
    "Dinas Tenaga Kerja",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Perindustrian Koperasi Usaha Kecil dan Menengah",
    "Dinas Pariwisata",
    "Dinas Kelautan dan Perikanan",
    "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "Dinas Perdagangan",
    "Dinas Lingkungan Hidup",
    "Dinas Perhubungan",
    "Dinas Komunikasi dan Informatika",
    "Dinas Kebudayaan (Kundha Kabudayan)",
    "Dinas Perpustakaan dan Kearsipan",
    "Satuan Polisi Pamong Praja",
    "Badan Perencanaan Pembangunan Riset dan Inovasi Daerah",
    "Badan Keuangan dan Aset Daerah",
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
    "Badan Kesatuan Bangsa dan Politik",
    "Badan Penanggulangan Bencana Daerah",
    "RSUD Wates",
    "RSUD Nyi Ageng Serang",
    "Kapanewon Temon",
    "Kapanewon Wates",
    "Kapanewon Panjatan",
    "Kapanewon Galur",
    "Kapanewon Lendah",
    "Kapanewon Sentolo",
    "Kapanewon Pengasih",
    "Kapanewon Kokap",
    "Kapanewon Girimulyo",
    "Kapanewon Nanggulan",
    "Kapanewon Kalibawang",
    "Kapanewon Samigaluh",
];

/// First upstream unit id.
pub const FIRST_UNIT_ID: u32 = 2401;

/// Kapanewon: (code suffix, name, kalurahan in code order).
pub const KAPANEWON: &[(&str, &str, &[&str])] = &[
    (
        "01",
        "Temon",
        &[
            "Jangkaran",
            "Sindutan",
            "Palihan",
            "Glagah",
            "Kalidengen",
            "Plumbon",
            "Kedundang",
            "Demen",
            "Kulur",
            "Kaligintung",
            "Temon Wetan",
            "Temon Kulon",
            "Kebonrejo",
            "Janten",
            "Karangwuluh",
        ],
    ),
    (
        "02",
        "Wates",
        &[
            "Karangwuni",
            "Sogan",
            "Kulwaru",
            "Ngestiharjo",
            "Bendungan",
            "Triharjo",
            "Giripeni",
        ],
    ),
    (
        "03",
        "Panjatan",
        &[
            "Garongan",
            "Pleret",
            "Bugel",
            "Kanoman",
            "Depok",
            "Bojong",
            "Tayuban",
            "Gotakan",
            "Panjatan",
            "Cerme",
            "Krembangan",
        ],
    ),
    (
        "04",
        "Galur",
        &[
            "Banaran",
            "Kranggan",
            "Nomporejo",
            "Karangsewu",
            "Tirtorahayu",
            "Pandowan",
            "Brosot",
        ],
    ),
    (
        "05",
        "Lendah",
        &[
            "Wahyuharjo",
            "Bumirejo",
            "Jatirejo",
            "Sidorejo",
            "Gulurejo",
            "Ngentakrejo",
        ],
    ),
    (
        "06",
        "Sentolo",
        &[
            "Demangrejo",
            "Srikayangan",
            "Tuksono",
            "Salamrejo",
            "Sukoreno",
            "Kaliagung",
            "Sentolo",
            "Banguncipto",
        ],
    ),
    (
        "07",
        "Pengasih",
        &[
            "Tawangsari",
            "Karangsari",
            "Kedungsari",
            "Margosari",
            "Pengasih",
            "Sendangsari",
            "Sidomulyo",
        ],
    ),
    (
        "08",
        "Kokap",
        &[
            "Hargomulyo",
            "Hargorejo",
            "Hargowilis",
            "Kalirejo",
            "Hargotirto",
        ],
    ),
    (
        "09",
        "Girimulyo",
        &["Jatimulyo", "Giripurwo", "Pendoworejo", "Purwosari"],
    ),
    (
        "10",
        "Nanggulan",
        &[
            "Banyuroto",
            "Donomulyo",
            "Wijimulyo",
            "Tanjungharjo",
            "Jatisarono",
            "Kembang",
        ],
    ),
    (
        "11",
        "Samigaluh",
        &[
            "Kebonharjo",
            "Banjarsari",
            "Purwoharjo",
            "Sidoharjo",
            "Gerbosari",
            "Ngargosari",
            "Pagerharjo",
        ],
    ),
    (
        "12",
        "Kalibawang",
        &["Banjararum", "Banjarasri", "Banjarharjo", "Banjaroyo"],
    ),
];

pub const ROADS: &[&str] = &[
    "Jalan Wates-Purworejo",
    "Jalan Nasional III",
    "Jalan Sentolo-Nanggulan",
    "Jalan Dekso-Samigaluh",
    "Jalan Pengasih-Sermo",
    "Jalan Brosot-Galur",
    "Jalan Daendels",
    "Jalan Khudori",
    "Jalan Bhayangkara",
    "Jalan Wates-Nanggulan",
    "Jalan Kalibawang-Dekso",
    "Jalan Kokap-Temon",
    "Jalan Suryo Pranoto",
    "Jalan Diponegoro",
];
pub const SCHOOLS: &[&str] = &[
    "SD Negeri 1 Wates",
    "SD Negeri Triharjo",
    "SMP Negeri 1 Pengasih",
    "SMP Negeri 2 Sentolo",
    "SMA Negeri 1 Wates",
    "SMK Negeri 2 Pengasih",
    "SD Negeri Kokap",
    "SMP Negeri 1 Galur",
    "SD Negeri Banjararum",
    "SMP Negeri 1 Samigaluh",
];
pub const PUSKESMAS: &[&str] = &[
    "Puskesmas Wates",
    "Puskesmas Temon I",
    "Puskesmas Panjatan II",
    "Puskesmas Galur I",
    "Puskesmas Lendah I",
    "Puskesmas Sentolo I",
    "Puskesmas Pengasih II",
    "Puskesmas Kokap I",
    "Puskesmas Girimulyo I",
    "Puskesmas Nanggulan",
    "Puskesmas Kalibawang",
    "Puskesmas Samigaluh I",
];
pub const PASAR: &[&str] = &[
    "Pasar Wates",
    "Pasar Sentolo",
    "Pasar Bendungan",
    "Pasar Dekso",
    "Pasar Brosot",
    "Pasar Temon",
    "Pasar Kenteng",
    "Pasar Clereng",
];
pub const WISATA: &[&str] = &[
    "Pantai Glagah",
    "Waduk Sermo",
    "Kebun Teh Nglinggo",
    "Pantai Trisik",
    "Goa Kiskendo",
    "Puncak Suroloyo",
    "Kalibiru",
    "Pantai Congot",
];
pub const FIRST_NAMES: &[&str] = &[
    "Sri", "Budi", "Agus", "Siti", "Dwi", "Tri", "Eko", "Wahyu", "Rina", "Joko", "Suparman",
    "Sutrisno", "Endang", "Wulan", "Nur", "Heru", "Bambang", "Yuli", "Retno", "Purwanto", "Ani",
    "Slamet", "Sumarni", "Fajar", "Dewi", "Rizky", "Tutik", "Hartono",
];
pub const LAST_NAMES: &[&str] = &[
    "Lestari",
    "Santoso",
    "Wibowo",
    "Rahayu",
    "Purnomo",
    "Susanti",
    "Hidayat",
    "Setiawan",
    "Nugroho",
    "Widodo",
    "Handayani",
    "Pratama",
    "Kurniawan",
    "Saputra",
    "Wijaya",
    "_",
];

/// Complaint templates: (topic id, judul, isi). Placeholders: {kal} kalurahan, {kap}
/// kapanewon, {jalan} road, {sekolah}, {puskesmas}, {pasar}, {wisata}, {hari} a count of days.
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "1",
        "KTP-el belum jadi setelah {hari} hari",
        "Saya sudah merekam KTP-el di Kapanewon {kap} tetapi setelah {hari} hari belum juga jadi. Setiap ditanyakan jawabannya blangko habis. Mohon kejelasan kapan bisa diambil.",
    ),
    (
        "1",
        "Pengurusan KK dan akta kelahiran lambat",
        "Pengajuan perubahan KK dan akta kelahiran anak kami di Kalurahan {kal} sudah {hari} hari belum selesai. Mohon dibantu karena diperlukan untuk pendaftaran sekolah.",
    ),
    (
        "1",
        "Data kependudukan tidak sinkron",
        "NIK saya tidak terbaca saat mendaftar BPJS padahal KTP-el sudah jadi. Alamat tercatat di Kalurahan {kal}, Kapanewon {kap}. Mohon data dipadankan.",
    ),
    (
        "2",
        "Antrean panjang di {puskesmas}",
        "Antrean di {puskesmas} sangat panjang, pasien lansia menunggu lebih dari tiga jam. Mohon penambahan petugas loket dan sistem antrean daring.",
    ),
    (
        "2",
        "Kartu BPJS Kesehatan PBI tidak aktif",
        "Kartu BPJS Kesehatan PBI ibu saya tiba-tiba tidak aktif saat berobat ke {puskesmas}. Kami warga kurang mampu di Kalurahan {kal}. Mohon diaktifkan kembali.",
    ),
    (
        "2",
        "Fogging demam berdarah belum dilakukan",
        "Sudah ada tiga warga Kalurahan {kal} terkena demam berdarah dalam dua minggu tetapi belum ada fogging. Mohon segera ditindaklanjuti oleh {puskesmas}.",
    ),
    (
        "3",
        "Pungutan di {sekolah}",
        "Orang tua siswa {sekolah} diminta membayar sumbangan pembangunan dengan nominal ditentukan sekolah. Apakah ini diperbolehkan? Mohon penjelasan dan penertiban.",
    ),
    (
        "3",
        "Zonasi PPDB tidak adil",
        "Anak kami tinggal dekat {sekolah} di Kalurahan {kal} tetapi tidak diterima melalui jalur zonasi, sementara yang jauh diterima. Mohon transparansi hasil PPDB.",
    ),
    (
        "3",
        "Atap kelas {sekolah} bocor",
        "Atap ruang kelas di {sekolah} bocor setiap hujan sehingga siswa harus pindah ruangan. Mohon segera diperbaiki sebelum roboh.",
    ),
    (
        "4",
        "Bangunan tanpa izin di sempadan sungai",
        "Ada bangunan permanen didirikan di sempadan sungai di Kalurahan {kal}, Kapanewon {kap}. Mohon dicek kesesuaian tata ruangnya.",
    ),
    (
        "41",
        "Jalan berlubang di {jalan}",
        "Jalan berlubang di {jalan} dekat Kalurahan {kal} sudah {hari} hari tidak diperbaiki. Sudah ada pengendara motor yang jatuh pada malam hari. Mohon segera ditambal.",
    ),
    (
        "41",
        "Jembatan penghubung di {kal} rusak",
        "Jembatan penghubung antar padukuhan di Kalurahan {kal} retak dan pagar pengamannya hilang. Anak sekolah setiap hari melintas. Mohon perbaikan.",
    ),
    (
        "41",
        "Aspal {jalan} mengelupas",
        "Aspal di {jalan} ruas Kapanewon {kap} mengelupas dan berbatu setelah musim hujan. Mohon perbaikan karena jalur ini ramai truk.",
    ),
    (
        "42",
        "Saluran drainase tersumbat di {jalan}",
        "Saluran drainase di {jalan} tersumbat sampah dan lumpur sehingga setiap hujan air meluap ke jalan dan rumah warga Kalurahan {kal}.",
    ),
    (
        "42",
        "Genangan air di depan {pasar}",
        "Setiap hujan deras terjadi genangan setinggi lutut di depan {pasar}. Pedagang dan pembeli kesulitan. Mohon normalisasi saluran.",
    ),
    (
        "43",
        "Lampu PJU mati di {jalan}",
        "Lampu penerangan jalan umum di {jalan} sekitar Kalurahan {kal} mati sudah {hari} hari. Jalan gelap dan rawan kecelakaan serta kejahatan.",
    ),
    (
        "43",
        "PJU menyala siang hari",
        "Lampu PJU di Kalurahan {kal}, Kapanewon {kap} menyala terus pada siang hari. Pemborosan listrik, mohon sensor atau timernya diperbaiki.",
    ),
    (
        "5",
        "Truk bertonase berat lewat {jalan}",
        "Truk bertonase berat melintas di {jalan} yang kelasnya tidak sesuai sehingga jalan cepat rusak. Mohon dipasang rambu dan penertiban.",
    ),
    (
        "5",
        "Rambu lalu lintas roboh di {jalan}",
        "Rambu batas kecepatan di {jalan} dekat {sekolah} roboh tertabrak kendaraan. Mohon dipasang kembali.",
    ),
    (
        "6",
        "Pencemaran limbah di sungai {kal}",
        "Sungai di Kalurahan {kal} berbau dan airnya berwarna gelap diduga limbah usaha. Ikan banyak mati. Mohon diperiksa.",
    ),
    (
        "6",
        "Penebangan pohon perindang tanpa izin",
        "Pohon perindang di tepi {jalan} ditebang tanpa pemberitahuan. Mohon dicek apakah ada izinnya.",
    ),
    (
        "61",
        "Sampah menumpuk di dekat {pasar}",
        "Sampah menumpuk di TPS dekat {pasar} dan tidak diangkut sudah {hari} hari. Baunya menyengat dan mengundang lalat.",
    ),
    (
        "61",
        "Pembuangan sampah liar di {jalan}",
        "Banyak warga membuang sampah sembarangan di pinggir {jalan} wilayah Kalurahan {kal}. Mohon dipasang larangan dan disediakan tempat sampah.",
    ),
    (
        "7",
        "Bansos PKH tidak tepat sasaran",
        "Di Kalurahan {kal} ada penerima PKH yang mampu, sedangkan keluarga miskin tetangga kami tidak terdaftar. Mohon verifikasi ulang DTKS.",
    ),
    (
        "7",
        "BLT belum diterima",
        "Kami terdaftar sebagai penerima BLT di Kalurahan {kal} tetapi sampai sekarang dana belum diterima. Mohon kejelasan.",
    ),
    (
        "8",
        "Upah di bawah UMK",
        "Karyawan sebuah pabrik di Kapanewon {kap} dibayar di bawah UMK Kulon Progo dan tanpa BPJS Ketenagakerjaan. Mohon pengawasan.",
    ),
    (
        "8",
        "Pelatihan kerja BLK tidak ada informasi",
        "Bagaimana cara mendaftar pelatihan kerja di BLK Kulon Progo? Informasi di media sosial tidak jelas. Mohon penjelasan.",
    ),
    (
        "9",
        "Pupuk bersubsidi langka",
        "Petani di Kalurahan {kal} kesulitan mendapatkan pupuk bersubsidi menjelang musim tanam. Kios bilang stok kosong. Mohon dicek distribusinya.",
    ),
    (
        "9",
        "Saluran irigasi rusak",
        "Saluran irigasi sawah di Kalurahan {kal}, Kapanewon {kap} jebol sehingga sawah tidak teraliri. Mohon perbaikan sebelum musim tanam.",
    ),
    (
        "10",
        "Izin usaha lewat OSS tidak terbit",
        "Saya mengajukan NIB melalui OSS untuk usaha di Kapanewon {kap} sudah {hari} hari tetapi belum terbit. Mohon bantuan DPMPTSP.",
    ),
    (
        "10",
        "PBG bangunan tidak kunjung selesai",
        "Pengajuan persetujuan bangunan gedung (PBG) untuk rumah kami di Kalurahan {kal} belum ada kabar. Mohon kejelasan prosesnya.",
    ),
    (
        "11",
        "Fasilitas wisata {wisata} rusak",
        "Toilet dan gazebo di {wisata} rusak dan kotor. Wisatawan mengeluh. Mohon perawatan fasilitas.",
    ),
    (
        "11",
        "Retribusi {wisata} tanpa karcis",
        "Pengunjung {wisata} ditarik retribusi tanpa diberi karcis resmi. Mohon penertiban.",
    ),
    (
        "12",
        "Pedagang kaki lima di trotoar {jalan}",
        "PKL berjualan di trotoar {jalan} sehingga pejalan kaki harus turun ke jalan. Mohon penataan oleh Satpol PP.",
    ),
    (
        "12",
        "Suara bising hiburan malam",
        "Ada kegiatan hiburan dengan suara keras sampai larut malam di Kalurahan {kal}. Warga terganggu. Mohon ditertibkan.",
    ),
    (
        "13",
        "Longsor menutup jalan di {kal}",
        "Tebing longsor menutup jalan di Kalurahan {kal}, Kapanewon {kap} sejak hujan deras kemarin. Warga tidak bisa lewat. Mohon alat berat.",
    ),
    (
        "13",
        "Banjir merendam rumah warga {kal}",
        "Banjir merendam puluhan rumah di Kalurahan {kal} setelah hujan semalaman. Mohon bantuan logistik dan perbaikan tanggul.",
    ),
    (
        "14",
        "Sinyal internet lemah di {kal}",
        "Sinyal seluler dan internet di Kalurahan {kal}, Kapanewon {kap} sangat lemah sehingga anak sekolah sulit belajar daring. Mohon penambahan BTS.",
    ),
    (
        "14",
        "Situs pemerintah daerah tidak bisa diakses",
        "Situs layanan Pemkab Kulon Progo tidak bisa dibuka sejak {hari} hari lalu. Mohon diperbaiki.",
    ),
    (
        "15",
        "Penggunaan dana desa tidak transparan",
        "Warga Kalurahan {kal} tidak pernah diberi informasi penggunaan dana desa tahun ini. Papan informasi APBKal tidak dipasang. Mohon diperiksa.",
    ),
    (
        "15",
        "Pelayanan kantor kalurahan tutup jam kerja",
        "Kantor Kalurahan {kal} sering tutup pada jam kerja sehingga warga tidak bisa mengurus surat pengantar.",
    ),
    (
        "16",
        "ASN keluyuran saat jam kerja",
        "Beberapa pegawai berseragam terlihat di {pasar} pada jam kerja. Mohon pengawasan disiplin ASN.",
    ),
    (
        "17",
        "PBB salah hitung",
        "Tagihan PBB rumah kami di Kalurahan {kal} naik dua kali lipat tanpa penjelasan. Mohon pengecekan NJOP.",
    ),
    (
        "18",
        "Harga minyak goreng di {pasar} tinggi",
        "Harga minyak goreng dan beras di {pasar} jauh di atas HET. Mohon operasi pasar.",
    ),
    (
        "18",
        "Los pasar {pasar} bocor",
        "Atap los di {pasar} bocor dan lantainya licin. Pedagang dirugikan saat hujan. Mohon perbaikan.",
    ),
    (
        "19",
        "Nelayan Glagah kesulitan solar",
        "Nelayan di pantai selatan Kapanewon {kap} kesulitan mendapatkan solar bersubsidi untuk melaut. Mohon bantuan.",
    ),
    (
        "20",
        "Saran untuk pelayanan publik",
        "Mohon agar layanan pengaduan di Kapanewon {kap} dibuka juga pada hari Sabtu untuk warga yang bekerja.",
    ),
    (
        "20",
        "Anjing liar berkeliaran di {kal}",
        "Banyak anjing liar berkeliaran di Kalurahan {kal} dan menggigit ternak warga. Mohon penanganan.",
    ),
];

/// Follow-up texts the instansi posted in the generated history.
pub const INSTANSI_REPLIES: &[&str] = &[
    "Terima kasih atas laporannya. Laporan sudah kami terima dan diteruskan ke bidang terkait.",
    "Sudah dilakukan pengecekan lapangan dan dijadwalkan penanganan minggu ini.",
    "Penanganan sudah selesai dilaksanakan. Terima kasih atas partisipasi Bapak/Ibu.",
    "Mohon melengkapi data berupa foto lokasi dan alamat lengkap agar dapat kami tindak lanjuti.",
    "Kami sudah berkoordinasi dengan pihak kalurahan untuk penanganan lebih lanjut.",
];

/// Replies of reporters.
pub const PELAPOR_REPLIES: &[&str] = &[
    "Terima kasih, mohon segera.",
    "Sampai hari ini belum ada perbaikan di lapangan.",
    "Sudah saya lengkapi fotonya, mohon dicek.",
    "Terima kasih, masalah sudah teratasi.",
    "Kenapa laporan ditutup padahal belum ditangani?",
];

/// Notes of the national admin.
pub const ADMIN_NOTES: &[&str] = &[
    "Laporan telah diverifikasi dan diteruskan ke instansi terkait.",
    "Didisposisikan ulang oleh admin nasional sesuai kewenangan.",
    "Laporan diarsipkan oleh admin nasional.",
];

/// Tags per topic id (first matching prefix wins).
pub fn tags_for(topic: &str) -> &'static [&'static str] {
    match topic {
        "41" => &["jalan", "infrastruktur"],
        "42" => &["drainase", "banjir"],
        "43" => &["pju", "listrik"],
        "61" => &["sampah", "kebersihan"],
        "1" => &["ktp-el", "adminduk"],
        "2" => &["kesehatan", "bpjs"],
        "3" => &["sekolah"],
        "7" => &["bansos"],
        "13" => &["bencana"],
        _ => &[],
    }
}

/// The unit usually in charge of a topic (upstream unit id).
pub fn unit_for_topic(topic: &str) -> u32 {
    match topic {
        "1" => 2412,
        "2" => 2405,
        "3" => 2404,
        "4" | "41" | "42" | "43" => 2406,
        "5" => 2419,
        "6" | "61" => 2418,
        "7" => 2407,
        "8" => 2411,
        "9" => 2409,
        "10" => 2416,
        "11" => 2414,
        "12" => 2423,
        "13" => 2428,
        "14" => 2420,
        "15" => 2408,
        "16" => 2426,
        "17" => 2425,
        "18" => 2417,
        "19" => 2415,
        _ => 2401,
    }
}
