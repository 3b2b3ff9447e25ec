from shared.backbone.app import serve
from services.lifecycle_scheduler.main import definition

serve(definition)
