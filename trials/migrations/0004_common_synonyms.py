"""A first set of condition synonyms across English and Chinese wording; administrators edit them in the admin."""

from django.db import migrations

GROUPS = [
    "osteonecrosis of the femoral head\navascular necrosis of the femoral head\navascular necrosis of the femur head\n"
    "femoral head necrosis\nfemur head necrosis\n股骨头坏死",
    "myocardial infarction\nheart attack\n心肌梗死\n心肌梗塞",
    "stroke\ncerebrovascular accident\n脑卒中\n中风",
    "hypertension\nhigh blood pressure\n高血压",
    "type 2 diabetes mellitus\ntype 2 diabetes\nT2DM\n2型糖尿病",
    "non-small cell lung cancer\nNSCLC\n非小细胞肺癌",
    "hepatocellular carcinoma\nliver cancer\n肝细胞癌\n肝癌",
    "acute-on-chronic liver failure\nACLF\n慢加急性肝衰竭",
    "chronic obstructive pulmonary disease\nCOPD\n慢性阻塞性肺疾病\n慢阻肺",
    "COVID-19\nSARS-CoV-2 infection\n新型冠状病毒肺炎\n新冠肺炎",
    "osteoporosis\n骨质疏松症\n骨质疏松",
    "vertebral compression fracture\n椎体压缩性骨折",
    "mesenchymal stem cells\nMSC\n间充质干细胞",
    "Alzheimer disease\nAlzheimer's disease\n阿尔茨海默病",
    "breast cancer\nbreast carcinoma\n乳腺癌",
    "gastric cancer\nstomach cancer\n胃癌",
    "colorectal cancer\ncolorectal carcinoma\n结直肠癌",
    "major depressive disorder\ndepression\n抑郁症",
    "chronic kidney disease\nCKD\n慢性肾脏病",
]


def add(apps, schema_editor):
    SynonymGroup = apps.get_model("trials", "SynonymGroup")
    SynonymGroup.objects.bulk_create(SynonymGroup(terms=terms, source="curated") for terms in GROUPS)


def remove(apps, schema_editor):
    apps.get_model("trials", "SynonymGroup").objects.filter(terms__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("trials", "0003_search_document")]
    operations = [migrations.RunPython(add, remove)]
